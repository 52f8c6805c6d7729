/** @module A captured output stream for CLI tests. */
import { EventEmitter } from 'node:events';

/** A string sink that looks enough like a terminal stream for the CLI and ink. */
export class Capture extends EventEmitter {
  text = '';
  isTTY = false;
  columns = 100;
  rows = 40;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}
