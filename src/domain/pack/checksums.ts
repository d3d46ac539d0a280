import { createHash } from "node:crypto";

export const CHECKSUMS_FILE = "checksums.txt";

export interface ChecksumProblem {
  code:
    | "CHECKSUMS_MISSING"
    | "CHECKSUMS_MALFORMED"
    | "CHECKSUM_MISMATCH"
    | "CHECKSUM_UNLISTED_FILE"
    | "CHECKSUM_MISSING_FILE";
  file: string;
  message: string;
}

export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** `sha256sum` output format: `<64 hex><space><space or *><path>` per line. */
export function renderChecksums(files: Map<string, Buffer>): string {
  return `${[...files.keys()]
    .filter((p) => p !== CHECKSUMS_FILE)
    .sort()
    .map((p) => `${sha256(files.get(p) as Buffer)}  ${p}`)
    .join("\n")}\n`;
}

/** Every file other than checksums.txt must be listed and match; every listed file must exist. */
export function verifyChecksums(files: Map<string, Buffer>): ChecksumProblem[] {
  const text = files.get(CHECKSUMS_FILE);
  if (!text)
    return [
      {
        code: "CHECKSUMS_MISSING",
        file: CHECKSUMS_FILE,
        message: "checksums.txt is missing; generate it with `npm run pack:checksums -- DIR`",
      },
    ];
  const problems: ChecksumProblem[] = [];
  const listed = new Map<string, string>();
  text
    .toString("utf8")
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === "") return;
      const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
      if (!m?.[1] || !m[2]) {
        problems.push({
          code: "CHECKSUMS_MALFORMED",
          file: CHECKSUMS_FILE,
          message: `line ${i + 1} is not "<sha256>  <path>"`,
        });
        return;
      }
      const path = m[2].replace(/^\.\//, "");
      if (listed.has(path))
        problems.push({
          code: "CHECKSUMS_MALFORMED",
          file: CHECKSUMS_FILE,
          message: `${path} is listed twice`,
        });
      listed.set(path, m[1].toLowerCase());
    });
  for (const [path, data] of files) {
    if (path === CHECKSUMS_FILE) continue;
    const expected = listed.get(path);
    if (expected === undefined)
      problems.push({
        code: "CHECKSUM_UNLISTED_FILE",
        file: path,
        message: `${path} is not listed in checksums.txt`,
      });
    else if (expected !== sha256(data))
      problems.push({
        code: "CHECKSUM_MISMATCH",
        file: path,
        message: `${path} does not match its checksum`,
      });
  }
  for (const path of listed.keys()) {
    if (!files.has(path))
      problems.push({
        code: "CHECKSUM_MISSING_FILE",
        file: path,
        message: `${path} is listed in checksums.txt but missing`,
      });
  }
  return problems;
}
