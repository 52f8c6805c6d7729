/**
 * @module Entry point of the `lw` binary (bin/lw.js imports it): runs the program on process.argv.
 * Import `buildProgram` / `run` from `./program.js` instead; importing this file runs the CLI.
 * `lw serve` runs a program with that command alone (`serve-program.ts`): the daemon's process does
 * not load the other commands.
 */
import { commandName } from './root.js';

// `lw … | head` closes the pipe early: that is not an error worth a stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const { run } = commandName(process.argv) === 'serve' ? await import('./serve-program.js') : await import('./program.js');
process.exitCode = await run(process.argv);
// A stray handle (an idle socket, a timer) must not keep a finished command alive.
setTimeout(() => process.exit(), 2_000).unref();
