/**
 * @module image-build/defaults
 * The image build's documented defaults, apart from the builder so that the CLI can show them in
 * its help without loading the builder.
 */

/** The build cache of `overcloud image build`: apt lists, logs, contexts. */
export const DEFAULT_CACHE_DIR = '/var/cache/overcloud/build';
