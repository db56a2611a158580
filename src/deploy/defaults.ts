/**
 * @module deploy/defaults
 * The deploy's documented defaults, apart from the engine so that the CLI can show them in its help
 * without loading the engine.
 */

/** Where a node keeps its plan and the running deploy's state (beside TripleO's /var/lib/tripleo-config files). */
export const DEFAULT_NODE_DIR = '/var/lib/tripleo-config/overcloud';
