#!/usr/bin/env bash
# Installs the system packages LEXO needs: Tesseract's language data (fra, eng, osd).
# The Tesseract engine itself comes inside the tesserocr wheel; only its data is needed here.
# Usage: scripts/system-deps.sh [--test|--bench]
#   --test adds PostgreSQL, Redis (the Celery queue's broker) and Chromium for the tests; --bench adds what the benchmarks
#   compare LEXO with (the tesseract command line, Ghostscript for OCRmyPDF).
set -euo pipefail
want_test=0
want_bench=0
[ "${1:-}" = "--test" ] && want_test=1
[ "${1:-}" = "--bench" ] && want_bench=1
# --containers (and --test): Podman with runc, netavark and aardvark-dns, mmdebstrap for the
# base image, docker-compose to check compose.yaml offline (tests/test_containers.py).
want_containers=0
[ "${1:-}" = "--test" ] && want_containers=1
[ "${1:-}" = "--containers" ] && want_containers=1

sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi

if command -v apt-get >/dev/null 2>&1; then
  pkgs=(tesseract-ocr-fra tesseract-ocr-eng tesseract-ocr-osd)
  # chromium: the browser the web page tests drive (tests/e2e, through Playwright).
  # fonts: the held-out test set (tests/fixtures/heldout) draws its pages in DejaVu and
  # Liberation, fonts the first development set never used.
  [ "$want_test" = 1 ] && pkgs+=(postgresql postgresql-contrib redis-server chromium fonts-dejavu-core fonts-liberation)
  [ "$want_bench" = 1 ] && pkgs+=(tesseract-ocr ghostscript fonts-dejavu-core fonts-liberation)
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing system packages: ${missing[*]}"
    $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}"
  fi
elif command -v brew >/dev/null 2>&1; then
  brew list tesseract >/dev/null 2>&1 || brew install tesseract
  brew list tesseract-lang >/dev/null 2>&1 || brew install tesseract-lang
  if [ "$want_test" = 1 ]; then
    brew list postgresql@16 >/dev/null 2>&1 || brew install postgresql@16
    brew list redis >/dev/null 2>&1 || brew install redis
  fi
  if [ "$want_bench" = 1 ]; then
    brew list ghostscript >/dev/null 2>&1 || brew install ghostscript
  fi
else
  echo "No apt-get or brew found: install Tesseract's fra, eng and osd language data yourself" >&2
  echo "and set LEXO_TESSDATA_DIR to the folder holding fra.traineddata." >&2
fi

# The container tools, without their recommends: docker-compose's would pull in the Docker
# engine, Podman's buildah and the rootless helpers; the tests use none of them.
if [ "$want_containers" = 1 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in podman runc netavark aardvark-dns catatonit iptables mmdebstrap docker-compose; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing container tools: ${missing[*]}"
    $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${missing[@]}"
  fi
fi
