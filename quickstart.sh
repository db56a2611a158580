#!/usr/bin/env bash
# quickstart.sh: the seed's `bash quickstart.sh --config=.../containers_minimal.yml $VIRTHOST`, with
# network namespaces on HOST as the undercloud and the overcloud nodes.
#
#   ./quickstart.sh --config config/containers_minimal.yml [--verbose] [--json] [HOST]
#   ./quickstart.sh --config config/containers_minimal.yml --teardown [--purge] [HOST]
#   ./quickstart.sh --config FILE [--nodes NODES_FILE] --print-config    # the effective configuration
#   remote HOST only: [--ssh-option Key=value]... [--remote-dir DIR] [--local-dir DIR]
#
# --config takes our format (config/*.yml) or tripleo-quickstart's own files unchanged, e.g.
# general_config/containers_minimal.yml, with its --nodes file (config/nodes/*.yml) on this machine
# (docs/quickstart-configs.md says what is mapped).
#
# HOST (also read from $VIRTHOST) defaults to this machine; `localhost`, `127.0.0.1`, `::1` and this
# machine's name, written bare, mean this machine too. Any other HOST ([user@]host[:port]) is reached
# over ssh as root, like TripleO's VIRTHOST: `overcloud quickstart` ships the built package there
# (unless HOST already has this build), runs the host set-up and the quickstart there with the same
# flags, and copies the results to ~/.quickstart/HOST/LAB (src/quickstart/remote.ts).
#
# On this machine the script makes sure the host is set up (scripts/setup-host.sh: packages, podman
# settings, npm ci) and hands over to `overcloud quickstart` (src/quickstart), which holds the lab's
# lock for the whole run: a second quickstart on the same lab exits with status 75.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)

usage() { sed -n '4,8p' "$0" | sed 's/^# *//' >&2; exit 2; }
args=() host="" print_config=0
while [ $# -gt 0 ]; do
  case "$1" in
    --config|--nodes|-N|--ssh-option|--remote-dir|--local-dir) [ $# -ge 2 ] || usage; args+=("$1" "$2"); shift 2 ;;
    --config=*|--nodes=*|--ssh-option=*|--remote-dir=*|--local-dir=*) args+=("$1"); shift ;;
    --teardown|--purge|--verbose|-v|--json) args+=("$1"); shift ;;
    --print-config) args+=("$1"); print_config=1; shift ;;
    -h|--help) usage ;;
    -*) echo "quickstart.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$host" ] || { echo "quickstart.sh: one HOST only" >&2; usage; }; host=$1; shift ;;
  esac
done
host=${host:-${VIRTHOST:-}}
cd "$here"

# install_matches_lock: node_modules has every package of package-lock.json at its version (optional
# ones may be missing: npm skips those of other platforms; so may development ones in a built package
# shipped to a remote HOST, which has no src/ and only its runtime dependencies).
install_matches_lock() {
  [ -f node_modules/.package-lock.json ] || return 1
  node -e '
    const fs = require("fs");
    const read = (f) => JSON.parse(fs.readFileSync(f, "utf8")).packages ?? {};
    const want = read("package-lock.json"), have = read("node_modules/.package-lock.json");
    const built = !fs.existsSync("src");
    const stale = Object.entries(want).filter(([p, w]) =>
      p !== "" && (have[p] ? have[p].version !== w.version : !(w.optional || (built && w.dev))));
    process.exit(stale.length === 0 ? 0 : 1);
  ' 2>/dev/null
}

# build_if_stale: the TypeScript build only when a source is newer than the built CLI.
build_if_stale() {
  [ -d src ] || return 0 # a built package (as shipped to a remote HOST): dist/ is all there is
  if [ ! -f dist/src/cli/run.js ] || [ -n "$(find src -newer dist/src/cli/run.js -name '*.ts' | head -1)" ]; then
    echo "  [quickstart] building dist/ (npm run build)"
    npm run --silent build
  fi
}

# --print-config reads the config file only: no host set-up, no root, no HOST.
if [ "$print_config" = 1 ]; then
  build_if_stale >&2
  exec bin/overcloud quickstart "${args[@]}"
fi

case "$host" in
  ""|localhost|127.0.0.1|::1|"$(hostname)")
    if [ "$(id -u)" != 0 ]; then echo "quickstart.sh: run as root (namespaces, routes, podman)" >&2; exit 1; fi
    # Host set-up is idempotent. npm ci only when node_modules does not hold what the lock file
    # says (compared by content: a fresh checkout's lock file is always newer than an install), and
    # never into a symlinked node_modules (setup-host.sh says why). Its output goes to stderr, so
    # that --json leaves stdout to the report.
    skip_npm=0
    if [ -L node_modules ] || install_matches_lock; then skip_npm=1; fi
    OVERCLOUD_SKIP_NPM=$skip_npm ./scripts/setup-host.sh 2>&1 | sed 's/^/  /' >&2
    build_if_stale >&2
    exec bin/overcloud quickstart "${args[@]}"
    ;;
  *)
    # This machine only drives HOST: it needs Node.js and the built CLI, not the host set-up.
    if [ ! -L node_modules ] && ! install_matches_lock; then npm ci --no-audit --no-fund --loglevel=error >&2; fi
    build_if_stale >&2
    exec bin/overcloud quickstart "${args[@]}" "$host"
    ;;
esac
