#!/usr/bin/env bash
# The newcomer's first command: install what the project needs, then run the demo on bundled
# defaults (synthetic phantom studies land in an import folder, the core ranks them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
export ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}" ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"
echo "npm ci: installing the Node packages (a few minutes on a first run)…"
set +e
npm ci --no-audit --no-fund --loglevel=http 2>&1 \
  | grep --line-buffered -E '^npm (http fetch GET 200|warn|error|ERR!)' \
  | awk '/http fetch/ { n++; if (n % 50 == 0) { printf "  %d packages fetched…\n", n; fflush() } next } { print; fflush() }'
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "npm ci failed (exit $status): run it by hand to see every line" >&2; exit "$status"; }
npm run demo -- "$@"
