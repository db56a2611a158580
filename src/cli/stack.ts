/**
 * @module cli/stack
 * Which stack a look-around command (`container list|logs`, `validate`, `debug print-cmd`) means,
 * and from where it must run: a registered stack whose nodes live in a network namespace (the
 * quickstart's lab) is reached by running this same command inside that namespace, so the user
 * types `overcloud container list` in the root namespace and gets the lab's containers.
 */
import { statSync } from 'node:fs';

export interface StackFlags {
  stack: string;
  stateDir?: string;
}

/** Here: the state folder to use. Elsewhere: the command ran in the stack's namespace, with this status. */
export type StackPlace = { here: true; stateDir: string } | { here: false; exitCode: number };

/** inSameNetns tells whether this process already runs in the namespace bound at `netnsPath`. */
function inSameNetns(netnsPath: string): boolean {
  try {
    const mine = statSync('/proc/self/ns/net');
    const theirs = statSync(netnsPath);
    return mine.ino === theirs.ino && mine.dev === theirs.dev;
  } catch {
    return true; // no such namespace (torn down): run here, and let the record's error speak
  }
}

/**
 * placeStack resolves the stack; when its nodes are reachable only from another namespace, runs
 * `overcloud <this command> --state-dir <its folder>` there (output streamed) and says how it ended.
 */
export async function placeStack(flags: StackFlags): Promise<StackPlace> {
  const [{ resolveStack }, { runProcess }] = await Promise.all([
    import('../deploy/index.js'),
    import('../process/index.js'),
  ]);
  const target = await resolveStack(flags.stack, flags.stateDir);
  if (target.netns === undefined || inSameNetns(target.netns))
    return { here: true, stateDir: target.stateDir };
  const self = [process.execPath, ...process.execArgv, process.argv[1] ?? '', ...process.argv.slice(2)];
  const argv = ['nsenter', `--net=${target.netns}`, ...self];
  if (flags.stateDir === undefined) argv.push('--state-dir', target.stateDir);
  const r = await runProcess(argv, {
    timeoutMs: 6 * 3_600_000,
    onLine: (l) => process.stdout.write(`${l}\n`),
    onStderrLine: (l) => process.stderr.write(`${l}\n`),
  });
  return { here: false, exitCode: r.code ?? 1 };
}
