#!/usr/bin/env bash
# The demo flow as a CI check: a simulated sub2api host, the real relay CLI, a throw-away database.
# Exits non-zero if any step does not do what it says.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/bin/relay.mjs ] || npm run build --silent
node dist/scripts/demo.js
