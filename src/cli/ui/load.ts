/**
 * @module Loading the ink kit on demand. Commands build their views through the kit they are handed
 * (`out.renderInk((k) => k.createElement(k.KeyReveal, …))`), so no CLI module imports ink or react
 * statically and the daemon's process never loads them.
 */
import type { kit } from './kit.js';

export type InkKit = typeof kit;

export async function loadInkKit(): Promise<InkKit> {
  return (await import('./kit.js')).kit;
}
