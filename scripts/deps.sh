#!/usr/bin/env bash
# Install the Debian packages sparsemm builds and tests against. Idempotent: packages already
# present are left alone, and apt-get update runs only when something is missing.
set -euo pipefail

PKGS=(
  build-essential pkg-config
  libsqlite3-dev libcjson-dev libopenblas-openmp-dev
  libjpeg62-turbo-dev libpng-dev libfreetype-dev fonts-dejavu-core
  libcmocka-dev gnuplot-nox
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
