#!/usr/bin/env bash
# Prepares Podman to build LEXO's images where no image registry can be reached.
#
#   scripts/container-base.sh [--conf-only]
#
# 1. Writes build/containers/containers.conf (print its path; export CONTAINERS_CONF=<it>
#    before running podman or podman-compose by hand): runc, cgroupfs and ulimits within the
#    host's hard limits, which Podman needs on machines without systemd or with a low
#    `ulimit -Hn` (the defaults ask for more and every container fails to start).
# 2. Unless --conf-only, or the image is already there: builds a Debian bookworm root file
#    system with mmdebstrap (python3, venv, pip, CA certificates; `python` and `python3.11`
#    in /usr/local/bin as in the official image) and `podman import`s it as python:3.11-slim,
#    the name the Dockerfiles start FROM. Builds then run with --pull=never.
# Where Docker Hub is reachable none of this is needed: `docker build` pulls the real image.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/containers
mkdir -p "$out"
conf="$PWD/$out/containers.conf"
base_tag=${LEXO_BASE_IMAGE:-python:3.11-slim}
suite=${LEXO_BASE_SUITE:-bookworm}
mirror=${LEXO_BASE_MIRROR:-http://deb.debian.org/debian}
security=${LEXO_BASE_SECURITY:-http://deb.debian.org/debian-security}

nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
nproc=$(ulimit -Hu)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
cat >"$conf.tmp" <<EOF
# Written by scripts/container-base.sh for this machine; CONTAINERS_CONF points here.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"

[network]
network_backend = "netavark"
EOF
mv "$conf.tmp" "$conf"
export CONTAINERS_CONF="$conf"
echo "$conf"
[ "${1:-}" = "--conf-only" ] && exit 0

if podman image exists "$base_tag" \
  && [ "$(podman image inspect --format '{{index .Labels "lexo.base"}}' "$base_tag")" = mmdebstrap ]; then
  echo "$base_tag: present (mmdebstrap $suite)" >&2
  exit 0
fi
if podman image exists "$base_tag"; then
  echo "$base_tag: present (not ours: kept)" >&2
  exit 0
fi

start=$(date +%s)
tarball="$out/base-$suite.tar"
# minbase + merged /usr by hook (the usrmerge package would pull in Perl); no recommends,
# no documentation, manual pages or locales: what the official slim images leave out too.
mmdebstrap --variant=minbase --quiet \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --include=python3,python3-venv,python3-pip,ca-certificates \
  --customize-hook='ln -sf /usr/bin/python3 "$1/usr/local/bin/python"' \
  --customize-hook='ln -sf /usr/bin/python3 "$1/usr/local/bin/python3"' \
  --customize-hook='ln -sf /usr/bin/python3.11 "$1/usr/local/bin/python3.11"' \
  --customize-hook='ln -sf /usr/bin/pip3 "$1/usr/local/bin/pip"' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  "$suite" "$tarball" \
  "deb $mirror $suite main" \
  "deb $mirror $suite-updates main" \
  "deb $security $suite-security main"

podman import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --change 'LABEL lexo.base=mmdebstrap' \
  --change "LABEL lexo.suite=$suite" \
  --message "mmdebstrap $suite minbase + python3 (scripts/container-base.sh)" \
  "$tarball" "$base_tag" >/dev/null
rm -f "$tarball"
echo "$base_tag: built from Debian $suite with mmdebstrap in $(($(date +%s) - start)) s" >&2
