/**
 * @module cli/main
 * The CLI's single error boundary: parses argv with commander, runs one library call, and maps
 * errors to a one-line message (plus a hint) and an exit status (2 for bad input, 1 otherwise).
 */
import { Command, CommanderError } from 'commander';
import { isAppError } from '../errors.js';
import { registerContainer } from './commands/container.js';
import { registerContainerImage } from './commands/container-image.js';
import { registerDeploy } from './commands/deploy.js';
import { registerImageBuild } from './commands/image-build.js';
import { registerImageGuest } from './commands/image-guest.js';
import { registerNode } from './commands/node.js';
import { registerPaunch } from './commands/paunch.js';
import { registerQuickstart } from './commands/quickstart.js';
import { registerRegistry } from './commands/registry.js';
import { registerValidate } from './commands/validate.js';

/** buildProgram assembles the command tree. Each command module adds its own subcommands. */
export function buildProgram(): Command {
  const program = new Command('overcloud')
    .description("TripleO's containerized overcloud deployment: prepare, upload, registry")
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  const container = program.command('container').description('container images').exitOverride();
  const image = container
    .command('image')
    .description('prepare, upload and inspect container images')
    .exitOverride();
  registerContainerImage(image);
  registerContainer(container);
  const imageCommand = program
    .command('image')
    .description('build container images and the guest image')
    .exitOverride();
  registerImageBuild(imageCommand);
  registerImageGuest(imageCommand);
  registerDeploy(program);
  registerNode(
    program.command('node').description('day-2 operations on the nodes of a deployed stack').exitOverride(),
  );
  registerPaunch(program);
  registerQuickstart(program);
  registerValidate(program);
  registerRegistry(program.command('registry').description("the undercloud's local registry").exitOverride());
  return program;
}

/** main runs the CLI and sets process.exitCode. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

/** reportError prints an error the way users see it and returns the exit status. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander already printed its message (and help for usage errors).
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
    return 2;
  }
  if (isAppError(e)) {
    process.stderr.write(`overcloud: error: ${e.message}\n`);
    if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
    return e.exitStatus;
  }
  const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`overcloud: internal error: ${text}\n`);
  process.stderr.write('  this is a bug in overcloud; please report it with the command line above\n');
  return 70;
}
