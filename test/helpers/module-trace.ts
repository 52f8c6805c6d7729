/**
 * For child-process tests that prove a package is *not* loaded: JavaScript source to put at the top of
 * the child (run with `--import tsx`, `LAZY_LOG` set to a writable file). It records every module the
 * child resolves under `packages` — ESM resolutions by a resolve hook (appended to LAZY_LOG, since hooks
 * run off-thread), CommonJS loads from `require.cache` — and defines `loaded()`: the package-relative
 * files seen so far (e.g. `ink/build/index.js`), sorted.
 */
export function moduleTracePreamble(packages: readonly string[]): string {
  if (packages.some((p) => !/^[@a-z0-9][a-z0-9._/-]*$/.test(p))) throw new Error(`not a package name: ${packages.join(', ')}`);
  return String.raw`
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const LOG = process.env.LAZY_LOG;
writeFileSync(LOG, '');
const PATTERN = '[/\\\\]node_modules[/\\\\]((?:' + ${JSON.stringify(packages.map((p) => p.replaceAll('.', '\\.')).join('|'))} + ')[/\\\\].*)$';
const HOOK = "import { appendFileSync } from 'node:fs';" +
  'let log, re; export function initialize(data) { log = data.log; re = new RegExp(data.pattern); }' +
  'export async function resolve(specifier, context, next) {' +
  '  const r = await next(specifier, context);' +
  '  if (re.test(r.url)) appendFileSync(log, r.url + "\\n");' +
  '  return r;' +
  '}';
register('data:text/javascript,' + encodeURIComponent(HOOK), import.meta.url, { data: { log: LOG, pattern: PATTERN } });

const require = createRequire(import.meta.url);
function loaded() {
  const re = new RegExp(PATTERN);
  const esm = readFileSync(LOG, 'utf8').split('\n').filter(Boolean).map((u) => decodeURIComponent(new URL(u).pathname));
  const files = [...esm, ...Object.keys(require.cache)].map((f) => re.exec(f)?.[1]?.replaceAll('\\', '/')).filter(Boolean);
  return [...new Set(files)].sort();
}
`;
}
