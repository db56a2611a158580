/**
 * @module validate/openstack-runner
 * Long-lived Python processes that run `openstack` commands one after another. Each `openstack`
 * process spends about a second importing the client and its plugins before it asks the cloud
 * anything, and validate runs some twenty commands: a runner pays that once. A runner runs each
 * command as the `openstack` executable does (`OpenStackShell().run(argv)`, a fresh shell every
 * time, with the same environment), with its output captured, and answers with the exit status,
 * stdout and stderr as one JSON line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LongLivedChild, startChild } from '../process/index.js';

const SCRIPT = `
import contextlib, io, json, sys
sys.argv = ["openstack"]  # before the import: cliff names the program from it then
from openstackclient import shell
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    argv = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    code = 1
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = shell.OpenStackShell().run(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException as e:
        err.write(repr(e))
    sys.__stdout__.write(json.dumps({"code": code or 0, "out": out.getvalue(), "err": err.getvalue()}) + "\\n")
    sys.__stdout__.flush()
`;

export interface RunnerAnswer {
  code: number;
  out: string;
  err: string;
}

/** Runner is one Python process; `ask` may be called again only after the last answer arrived. */
export class Runner {
  private readonly proc: LongLivedChild;
  private buffer = '';
  private waiting: ((line: string | undefined) => void)[] = [];
  private lines: string[] = [];
  private exited = false;
  /** Set at once by kill(), before the process has gone. */
  private killed = false;
  /** Resolves true once the client imported, false if the process died first. */
  readonly ready: Promise<boolean>;

  constructor(env: NodeJS.ProcessEnv, python: string) {
    this.proc = startChild([python, '-c', SCRIPT], { env });
    this.proc.stdout.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
        this.deliver(this.buffer.slice(0, i));
        this.buffer = this.buffer.slice(i + 1);
      }
    });
    this.proc.stderr.resume();
    const gone = (): void => {
      this.exited = true;
      for (const w of this.waiting.splice(0)) w(undefined);
    };
    this.proc.on('exit', gone);
    this.proc.on('error', gone);
    this.ready = this.next().then((l) => l !== undefined);
  }

  get alive(): boolean {
    return !this.exited && !this.killed;
  }

  private deliver(line: string): void {
    const w = this.waiting.shift();
    if (w) w(line);
    else this.lines.push(line);
  }

  private next(): Promise<string | undefined> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.exited) return Promise.resolve(undefined);
    return new Promise((r) => this.waiting.push(r));
  }

  /** ask runs one command; undefined when the runner died or `timeoutMs` passed (it is then killed). */
  async ask(argv: string[], timeoutMs: number): Promise<RunnerAnswer | undefined> {
    if (!this.alive) return undefined;
    this.proc.stdin.write(`${JSON.stringify(argv)}\n`);
    let timer: NodeJS.Timeout | undefined;
    const line = await Promise.race([
      this.next(),
      new Promise<undefined>((r) => {
        timer = setTimeout(() => {
          this.kill();
          r(undefined);
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return line === undefined ? undefined : (JSON.parse(line) as RunnerAnswer);
  }

  kill(): void {
    this.killed = true;
    if (!this.exited) this.proc.kill('SIGKILL');
  }

  /** close ends the process once it finished its command. */
  close(): void {
    if (!this.exited) this.proc.stdin.end();
  }
}

/**
 * clientPython is the interpreter the `openstack` executable runs under (its `#!` line): the one
 * whose modules hold the client. A `python3` first on PATH may be another one (pyenv) without it.
 */
export function clientPython(env: NodeJS.ProcessEnv, binary = 'openstack'): string | undefined {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (!dir) continue;
    try {
      const head = readFileSync(join(dir, binary), 'utf8').slice(0, 200);
      const m = /^#!\s*(\S+)\s*$/m.exec(head.split('\n')[0] ?? '');
      return m?.[1];
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
