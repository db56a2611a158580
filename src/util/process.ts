/**
 * @module util/process
 * Whether a process id is alive (signal 0 delivers nothing; it only asks).
 */

/** isAlive: the pid exists; EPERM means it does, as someone else's. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
