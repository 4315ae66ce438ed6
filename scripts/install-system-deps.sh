#!/usr/bin/env bash
# Debian packages the project needs beyond Node: the Python side (phantoms, training, export),
# dcmtk as the independent DICOM peer for tests, chromium for the renderer's browser tests, and
# postgresql for the store's tests on its PostgreSQL backend (a throwaway cluster per test run).
set -euo pipefail
PACKAGES=(
  python3-numpy python3-scipy python3-torch python3-torchvision python3-onnx python3-pydicom python3-gdcm
  dcmtk chromium strace postgresql
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
# Another apt (an unattended upgrade, a second terminal) may hold the package locks: wait for it,
# saying so, instead of failing at once.
WAIT=(-o DPkg::Lock::Timeout=900)
for lock in /var/lib/dpkg/lock-frontend /var/lib/apt/lists/lock; do
  if [ -e "$lock" ] && command -v fuser >/dev/null && $SUDO fuser "$lock" >/dev/null 2>&1; then
    echo "waiting for another package manager to release $lock (up to 15 minutes)…"
  fi
done
echo "apt-get update…"
$SUDO apt-get "${WAIT[@]}" update -qq
echo "apt-get install (one line per package)…"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${WAIT[@]}" install -y -q --no-install-recommends "${missing[@]}" \
  | grep --line-buffered -E '^(Setting up|Unpacking) ' || true
echo "system packages: installed"
