/**
 * @module cli/commands/container-image
 * `overcloud container image ...`: groups the subcommands, each defined in its own file.
 */
import type { Command } from 'commander';
import { registerPrepare } from './prepare.js';
import { registerUpload } from './upload.js';

/** registerContainerImage adds the `container image` subcommands. */
export function registerContainerImage(image: Command): void {
  registerPrepare(image);
  registerUpload(image);
}
