/**
 * @module cli/commands/prepare
 */
import type { Command } from 'commander';

export function registerPrepare(image: Command): void {
  void image;
}
