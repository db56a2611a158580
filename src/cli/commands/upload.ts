/**
 * @module cli/commands/upload
 */
import type { Command } from 'commander';

export function registerUpload(image: Command): void {
  void image;
}
