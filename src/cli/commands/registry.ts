/**
 * @module cli/commands/registry
 * `overcloud registry serve|gc`: the undercloud's local registry.
 */
import type { Command } from 'commander';

/** registerRegistry adds the `registry` subcommands. */
export function registerRegistry(registry: Command): void {
  void registry;
}
