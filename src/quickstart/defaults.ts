/**
 * @module quickstart/defaults
 * The quickstart's documented defaults, apart from the quickstart itself so that the CLI can show
 * them in its help without loading it.
 */

/** A remote HOST's quickstart folder, unless --remote-dir or $QUICKSTART_REMOTE_DIR says otherwise. */
export const DEFAULT_REMOTE_DIR = '/root/overcloud-quickstart';
