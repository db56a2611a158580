/**
 * @module process/shell-quote
 * argv as one POSIX shell word list: for ssh's remote command line, and for humans to paste.
 */

/** shellQuote quotes each word that is not plainly safe with single quotes. */
export function shellQuote(argv: string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}
