#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=25
// Runs the compiled CLI when it is built (npm ci runs `prepare` → build), else the TypeScript sources via tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(fileURLToPath(dist)) && !process.env.LW_FROM_SOURCE) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
