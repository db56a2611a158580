/**
 * @module cli/run
 * The process entry point that bin/overcloud executes.
 */
import { main } from './main.js';

await main(process.argv);
