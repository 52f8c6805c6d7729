/**
 * @module A private JavaScript build of src/ for the benchmark, in <os tmp>/lw-bench-build-<hash>/:
 * every .ts/.tsx file transpiled on its own with the project's TypeScript (`transpileModule`, no type
 * check: `verbatimModuleSyntax` makes per-file emit exact), non-TypeScript files (catalog.json, the SQL
 * migrations) copied beside them, package.json copied one level up as the CLI reads it there.
 *
 * Why not the repo's dist/: bin/lw.js prefers dist/ whenever it exists, so building it in a checkout
 * that several people edit would make everyone's `node bin/lw.js` run stale code, and `tsc` alone does
 * not copy the migrations. Not inside the checkout either: `eslint .` would lint the generated JS. A
 * `node_modules` symlink next to it resolves the packages from the checkout. ~3 s, reused while src/ is
 * unchanged.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/** Where the build of the checkout at `root` lives: one folder per checkout, outside it. */
export function defaultBuildDir(root) {
  return join(tmpdir(), `lw-bench-build-${createHash('sha1').update(root).digest('hex').slice(0, 8)}`);
}

function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * Builds `<root>/src` into `<outRoot>/dist` unless the stamp says nothing changed.
 * @returns the path of the built CLI entry (`<outRoot>/dist/cli/main.js`).
 */
export function buildPrivate(root, outRoot, log = () => {}) {
  const src = join(root, 'src');
  const dist = join(outRoot, 'dist');
  const files = walk(src).sort();
  const h = createHash('sha1');
  for (const f of files) {
    const st = statSync(f);
    h.update(`${f}|${st.size}|${st.mtimeMs}\n`);
  }
  h.update(readFileSync(join(root, 'package.json')));
  const stamp = h.digest('hex');
  const stampFile = join(outRoot, 'stamp');
  const entry = join(dist, 'cli', 'main.js');
  if (existsSync(entry) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    log(`lw build: ${outRoot} is up to date (${files.length} files)`);
    return entry;
  }
  const t0 = Date.now();
  const ts = createRequire(join(root, 'package.json'))('typescript');
  rmSync(dist, { recursive: true, force: true });
  const options = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    jsx: ts.JsxEmit.ReactJSX,
    verbatimModuleSyntax: true,
    esModuleInterop: true,
    sourceMap: false,
  };
  let n = 0;
  for (const f of files) {
    const rel = relative(src, f);
    if (/\.d\.ts$/.test(rel)) continue;
    const isTs = /\.tsx?$/.test(rel);
    const out = join(dist, isTs ? rel.replace(/\.tsx?$/, '.js') : rel);
    mkdirSync(dirname(out), { recursive: true });
    if (!isTs) {
      copyFileSync(f, out);
      continue;
    }
    const r = ts.transpileModule(readFileSync(f, 'utf8'), { compilerOptions: options, fileName: f, reportDiagnostics: false });
    writeFileSync(out, r.outputText);
    n++;
  }
  copyFileSync(join(root, 'package.json'), join(outRoot, 'package.json'));
  if (!existsSync(join(outRoot, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(outRoot, 'node_modules'), 'dir');
  writeFileSync(stampFile, stamp);
  log(`lw build: transpiled ${n} files into ${dist} in ${Date.now() - t0} ms`);
  return entry;
}
