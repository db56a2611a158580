/**
 * @module server/log
 * Access log lines in the Common Log Format, as Apache and nginx write them, so the usual tools read them.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** clfTime renders `10/Oct/2000:13:55:36 +0000` (UTC). */
export function clfTime(d: Date): string {
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000`;
}

export interface AccessEntry {
  remote: string | undefined;
  user: string | undefined;
  time: Date;
  method: string;
  url: string;
  httpVersion: string;
  status: number;
  bytes: number | undefined;
}

/** commonLogLine renders `host - user [time] "METHOD url HTTP/x" status bytes`. */
export function commonLogLine(e: AccessEntry): string {
  const url = e.url.replace(/[\s"\\]/g, (c) => encodeURIComponent(c));
  return `${e.remote ?? '-'} - ${e.user ?? '-'} [${clfTime(e.time)}] "${e.method} ${url} HTTP/${e.httpVersion}" ${e.status} ${e.bytes ?? '-'}`;
}
