#!/usr/bin/env bash
# Installs the Debian packages lmpress builds against, only those missing.
set -euo pipefail
pkgs=(cmake g++ make pkg-config libopenblas-openmp-dev liblapacke-dev nlohmann-json3-dev libcli11-dev
      libpcre2-dev libicu-dev liblzma-dev zlib1g-dev python3 libgtest-dev libgmock-dev libbenchmark-dev libomp-dev libhtscodecs-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
