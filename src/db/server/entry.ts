/**
 * @module Entry point of the embedded store's own process (importing this file runs it), spawned by
 * `lw serve` through process.ts. A file of its own rather than an `lw` subcommand: the CLI program
 * would add ~60 MB of RSS to a process that only needs PGlite and a socket.
 *
 *   node entry.js --dir DIR --socket PATH [--grace-ms MS] [--parent-pid PID]   serve the store
 *   node entry.js --init --dir DIR                                               create it (initdb), exit
 */
import { parseArgs } from 'node:util';
import { initStoreFolder, runStoreServer } from './child.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    socket: { type: 'string' },
    init: { type: 'boolean', default: false },
    'grace-ms': { type: 'string' },
    'parent-pid': { type: 'string' },
  },
  strict: true,
});

if (!values.dir || (!values.init && !values.socket)) {
  process.stderr.write('usage: entry --dir DIR (--init | --socket PATH [--grace-ms MS] [--parent-pid PID])\n');
  process.exit(2);
}
if (values.init) await initStoreFolder(values.dir);
await runStoreServer({
  dataDir: values.dir,
  socketPath: values.socket!,
  graceMs: Number(values['grace-ms']) || 120_000,
  parentPid: values['parent-pid'] ? Number(values['parent-pid']) : null,
});
