/**
 * @module The worker process's entry point (node:cluster `exec`, see primary.ts): runs the worker, which
 * waits for the primary's `init` message. Not meant to be run by hand.
 */
import { runWorker } from './worker.js';

await runWorker();
