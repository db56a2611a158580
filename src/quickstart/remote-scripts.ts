/**
 * @module quickstart/remote-scripts
 * The shell that runs on a remote HOST, one script per ssh call: look around (preflight), unpack a
 * shipment, run the quickstart, hand back its results. Kept apart so the remote side can be read in
 * one place. Every value put into a script is quoted with `shq`.
 *
 * The remote checkout has a lock file, `.overcloud-remote/tree.lock` (flock(1), released by the
 * kernel when its holder dies): unpacking takes it exclusively, a run takes it shared. So runs from
 * the same checkout can go on side by side (the lab lock decides whether they may), but no run sees
 * its files replaced under it, and no shipment lands half-way into a running one.
 */
import { shq } from './remote-host.js';

/** Remote exit status: the checkout's lock is taken (a shipment or a run is in progress). */
export const TREE_BUSY = 76;
/** Remote exit status: another shipment replaced the checkout between our look and our run. */
export const TREE_CHANGED = 77;
/** Remote exit status: the folder exists, is not empty, and was not made by a shipment. */
export const TREE_FOREIGN = 78;

export const MARK_DIR = '.overcloud-remote';

/** preflightScript prints key=value lines about the host and the shipment already there. */
export function preflightScript(dir: string): string {
  const d = shq(dir);
  return [
    'echo "uid=$(id -u)"',
    'echo "user=$(id -un)"',
    'if [ -r /etc/debian_version ]; then echo "debian=$(cat /etc/debian_version)"; fi',
    'echo "os=$(. /etc/os-release 2>/dev/null; echo "$PRETTY_NAME")"',
    'echo "node=$(node --version 2>/dev/null)"',
    'echo "npm=$(npm --version 2>/dev/null)"',
    'echo "flock=$(command -v flock)"',
    `echo "shipped=$(cat ${d}/${MARK_DIR}/shipped 2>/dev/null)"`,
    `if [ -d ${d} ] && [ ! -d ${d}/${MARK_DIR} ] && [ -n "$(ls -A ${d} 2>/dev/null)" ]; then echo foreign=1; fi`,
    'echo end=1',
  ].join('; ');
}

/**
 * unpackScript reads a gzipped tar on stdin into `dir` under the exclusive lock, removes the files
 * the previous shipment had and this one has not, installs the runtime dependencies when the lock
 * file changed, and records the shipment's hash last (so a half-done unpack is never taken as done).
 */
export function unpackScript(dir: string, hash: string): string {
  const m = MARK_DIR;
  const body = [
    'set -euo pipefail',
    `[ ! -f ${m}/manifest ] || cp ${m}/manifest ${m}/manifest.previous`,
    `touch ${m}/manifest.previous`,
    'tar -xzf - --no-same-owner',
    `LC_ALL=C sort -u ${m}/manifest.previous > ${m}/manifest.a`,
    `LC_ALL=C sort -u ${m}/manifest > ${m}/manifest.b`,
    `LC_ALL=C comm -23 ${m}/manifest.a ${m}/manifest.b | while IFS= read -r f; do rm -f -- "$f"; echo "removed $f (no longer shipped)"; done`,
    `rm -f ${m}/manifest.a ${m}/manifest.b ${m}/manifest.previous`,
    'sum=$(sha256sum package-lock.json | cut -d" " -f1)',
    `if [ ! -d node_modules ] || [ "$(cat ${m}/npm.sha256 2>/dev/null)" != "$sum" ]; then`,
    '  echo "npm ci --omit=dev (runtime dependencies)"',
    '  npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error',
    `  echo "$sum" > ${m}/npm.sha256.tmp && mv ${m}/npm.sha256.tmp ${m}/npm.sha256`,
    'fi',
    `echo ${shq(hash)} > ${m}/shipped.tmp && mv ${m}/shipped.tmp ${m}/shipped`,
  ].join('\n');
  const d = shq(dir);
  return [
    `if [ -d ${d} ] && [ ! -d ${d}/${m} ] && [ -n "$(ls -A ${d} 2>/dev/null)" ]; then exit ${TREE_FOREIGN}; fi`,
    `mkdir -p ${d}/${m} && cd ${d} && exec flock -x -n -E ${TREE_BUSY} ${m}/tree.lock bash -c ${shq(body)}`,
  ].join('; ');
}

/**
 * runScript runs the host set-up (idempotent; its output goes to stderr so that `--json` keeps stdout
 * for the report) and `overcloud quickstart ARGS` in `dir`, under the shared lock, after checking that
 * the checkout is still the shipment `hash`.
 */
export function runScript(dir: string, hash: string, args: string[]): string {
  const m = MARK_DIR;
  const body = [
    'set -eo pipefail',
    `[ "$(cat ${m}/shipped 2>/dev/null)" = "$0" ] || exit ${TREE_CHANGED}`,
    'OVERCLOUD_SKIP_NPM=1 ./scripts/setup-host.sh 2>&1 | sed "s/^/  /" >&2',
    'exec bin/overcloud quickstart "$@"',
  ].join('\n');
  return `cd ${shq(dir)} && exec flock -s -n -E ${TREE_BUSY} ${m}/tree.lock bash -c ${shq(body)} ${shq(hash)} ${args.map(shq).join(' ')}`;
}

/** The lab files handed back after a run: the report and the credentials file, where they exist. */
export const RESULT_FILES = ['quickstart-report.json', 'stack/state/overcloudrc', 'stack/overcloudrc'];

/** fetchScript writes a tar of the result files that exist in the lab folder to stdout (none: empty). */
export function fetchScript(labDir: string): string {
  return [
    `cd ${shq(labDir)} 2>/dev/null || exit 0`,
    'set --',
    `for f in ${RESULT_FILES.join(' ')}; do [ -f "$f" ] && set -- "$@" "$f"; done`,
    '[ $# -eq 0 ] || tar -cf - "$@"',
  ].join('; ');
}
