#!/usr/bin/env bash
# The newcomer's first command: install what the project needs, then run the demo on bundled
# defaults (synthetic phantom studies land in an import folder, the core ranks them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
export ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}" ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"
npm ci --no-audit --no-fund
npm run demo -- "$@"
