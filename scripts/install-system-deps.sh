#!/usr/bin/env bash
# Debian packages the project needs beyond Node: the Python side (phantoms, training, export),
# dcmtk as the independent DICOM peer for tests, and chromium for the renderer's browser tests.
set -euo pipefail
PACKAGES=(
  python3-numpy python3-scipy python3-torch python3-torchvision python3-onnx python3-pydicom python3-gdcm
  dcmtk chromium strace
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
