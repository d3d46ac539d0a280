/** `npm run fixtures:packs`: rewrites tests/fixtures/packs/ (the bad-pack corpus). */
import { generate } from "../tests/fixtures/packs/generate.js";

generate();
console.log("tests/fixtures/packs regenerated");
