#!/usr/bin/env bash
# quickstart.sh: the seed's `bash quickstart.sh --config=.../containers_minimal.yml $VIRTHOST`, with
# network namespaces on HOST as the undercloud and the overcloud nodes.
#
#   ./quickstart.sh --config config/containers_minimal.yml [--verbose] [HOST]
#   ./quickstart.sh --config config/containers_minimal.yml --teardown [--purge] [HOST]
#
# HOST defaults to this machine. Another HOST is reached over SSH as root, like TripleO's VIRTHOST:
# this checkout is copied to HOST:$QUICKSTART_REMOTE_DIR (default /root/overcloud-quickstart, without
# node_modules and dist) and the same command runs there. The work itself is `overcloud quickstart`
# (src/quickstart); this script only makes sure the host is set up (scripts/setup-host.sh: packages,
# podman settings, npm ci) and hands over.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)

usage() { sed -n '4,5p' "$0" | sed 's/^# *//' >&2; exit 2; }
args=() host=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) [ $# -ge 2 ] || usage; args+=(--config "$2"); shift 2 ;;
    --config=*) args+=(--config "${1#--config=}"); shift ;;
    --teardown|--purge|--verbose|-v|--json) args+=("$1"); shift ;;
    -h|--help) usage ;;
    -*) echo "quickstart.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$host" ] || { echo "quickstart.sh: one HOST only" >&2; usage; }; host=$1; shift ;;
  esac
done
host=${host:-${VIRTHOST:-}}

case "$host" in
  ""|localhost|127.0.0.1|"$(hostname)")
    cd "$here"
    if [ "$(id -u)" != 0 ]; then echo "quickstart.sh: run as root (namespaces, routes, podman)" >&2; exit 1; fi
    # Host set-up is idempotent. npm ci only when node_modules is missing or older than the lock
    # file; the TypeScript build only when a source is newer than the built CLI.
    skip_npm=0
    if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
      skip_npm=1
    fi
    OVERCLOUD_SKIP_NPM=$skip_npm ./scripts/setup-host.sh | sed 's/^/  /'
    if [ ! -f dist/src/cli/run.js ] || [ -n "$(find src -newer dist/src/cli/run.js -name '*.ts' | head -1)" ]; then
      echo "  [quickstart] building dist/ (npm run build)"
      npm run --silent build
    fi
    exec bin/overcloud quickstart "${args[@]}"
    ;;
  *)
    remote_dir=${QUICKSTART_REMOTE_DIR:-/root/overcloud-quickstart}
    ssh_opts=(-o BatchMode=yes -o ConnectTimeout=10)
    echo "quickstart.sh: copying this checkout to root@$host:$remote_dir"
    tar -C "$here" --exclude=./node_modules --exclude=./dist --exclude=./.git -czf - . |
      ssh "${ssh_opts[@]}" "root@$host" "mkdir -p '$remote_dir' && tar -C '$remote_dir' -xzf -"
    # Config paths are passed as given: relative ones resolve inside the copied checkout.
    quoted=$(printf ' %q' "${args[@]}")
    exec ssh "${ssh_opts[@]}" -t "root@$host" "cd '$remote_dir' && ./quickstart.sh$quoted"
    ;;
esac
