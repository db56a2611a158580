#!/usr/bin/env bash
# setup-host.sh: install and configure what overcloud and its tests need on Debian 12 (as root).
# Idempotent: packages are installed only when missing; config files are rewritten only when
# their content changes, and an unmanaged file is backed up once to <file>.orig.
#
# Why the podman settings: on these hosts crun refuses the cgroup v1/v2 hybrid layout (use runc),
# there is no systemd (cgroupfs, file events), and podman's default rlimits exceed the hard limits
# of a process without CAP_SYS_RESOURCE, so default_ulimits must set BOTH nofile and nproc.
set -euo pipefail

MARK="Managed by overcloud scripts/setup-host.sh"
log() { echo "[setup-host] $*"; }
die() { echo "[setup-host] ERROR: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"

PACKAGES=(podman runc conmon skopeo busybox-static docker-registry iproute2 wrk apache2-utils
  ca-certificates openssl git mmdebstrap openssh-server openssh-client ansible python3-openstackclient
  python3-heatclient curl qemu-system-x86 qemu-utils genisoimage golang-go)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

clamp() { if [ "$2" != unlimited ] && [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }
NOFILE=$(clamp "${PODMAN_NOFILE:-16384}" "$(ulimit -Hn)")
NPROC=$(clamp "${PODMAN_NPROC:-16384}" "$(ulimit -Hu)")

write_file() { # write_file PATH < content
  local path=$1 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  mkdir -p "$(dirname "$path")"
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then rm -f "$tmp"; return 0; fi
  if [ -f "$path" ] && ! grep -q "$MARK" "$path" && [ ! -e "$path.orig" ]; then
    cp -p "$path" "$path.orig"; log "backed up $path to $path.orig"
  fi
  install -m 0644 "$tmp" "$path"; rm -f "$tmp"; log "wrote $path"
}

write_file /etc/containers/containers.conf <<CONF
# $MARK
[containers]
default_ulimits = [
  "nofile=${NOFILE}:${NOFILE}",
  "nproc=${NPROC}:${NPROC}",
]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF

if [ ! -f /etc/containers/storage.conf ] || grep -q "$MARK" /etc/containers/storage.conf; then
  write_file /etc/containers/storage.conf <<CONF
# $MARK
[storage]
driver = "overlay"
graphroot = "/var/lib/containers/storage"
runroot = "/run/containers/storage"
CONF
fi

# Node dependencies (and the TypeScript build, through the package's prepare script).
# OVERCLOUD_SKIP_NPM=1: the caller (quickstart.sh, on a checkout already installed) skips npm ci,
# which would delete and reinstall node_modules under anything running from this checkout.
# A node_modules that is a symlink is another checkout's install (a git worktree sharing it): npm ci
# would empty the folder it points to under whoever uses it, so it is left alone.
if [ -L node_modules ] && [ "${OVERCLOUD_SKIP_NPM:-}" != 1 ]; then
  log "node_modules is a symlink to $(readlink -f node_modules): not reinstalling someone else's install"
elif [ -f package.json ] && [ "${OVERCLOUD_SKIP_NPM:-}" != 1 ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "ready: $(podman --version), $(skopeo --version), $(node --version)"
