/**
 * @module The one step of `lw configure` / `lw service install` that touches the disk: diff a plan,
 * back the old files up and write the new ones atomically. Unchanged files are never touched, so
 * applying a plan twice writes nothing the second time.
 */
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { ConfigurePlan, FilePlan, ReadText } from './types.js';

/** Reads a file as UTF-8; null when it does not exist. */
export const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
};

const CONTEXT = 3;
/** Above this many line pairs the LCS table gets expensive: show the whole file as replaced instead. */
const MAX_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; text: string };

/** Lines of a text; a last line without a newline carries git's marker so that difference shows. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] += '\n\\ No newline at end of file';
  return lines;
}

function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_CELLS) {
    return [...a.map((text) => ({ kind: '-' as const, text })), ...b.map((text) => ({ kind: '+' as const, text }))];
  }
  // lcs[i][j] = length of the LCS of a[i..] and b[j..], flattened row-major.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i++]! });
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) {
      ops.push({ kind: '-', text: a[i++]! });
    } else {
      ops.push({ kind: '+', text: b[j++]! });
    }
  }
  while (i < n) ops.push({ kind: '-', text: a[i++]! });
  while (j < m) ops.push({ kind: '+', text: b[j++]! });
  return ops;
}

/**
 * A unified diff (3 lines of context) between two texts; '' when they are equal.
 * @example
 * diffText('a\nb\n', 'a\nc\n', '~/.codex/config.toml');
 * // --- ~/.codex/config.toml\n+++ ~/.codex/config.toml\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n
 */
export function diffText(before: string | null, after: string, path: string): string {
  if (before === after) return '';
  const ops = editScript(splitLines(before ?? ''), splitLines(after));
  const out = [`--- ${before === null ? '/dev/null' : path}`, `+++ ${path}`];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k]!.kind === ' ') k++;
    if (k >= ops.length) break;
    const start = Math.max(0, k - CONTEXT);
    // Extend the hunk while the next change is within 2×CONTEXT unchanged lines.
    let end = k;
    let lastChange = k;
    while (end < ops.length) {
      if (ops[end]!.kind !== ' ') lastChange = end;
      else if (end - lastChange > 2 * CONTEXT) break;
      end++;
    }
    end = Math.min(ops.length, lastChange + CONTEXT + 1);
    let aStart = 0;
    let bStart = 0;
    for (let x = 0; x < start; x++) {
      if (ops[x]!.kind !== '+') aStart++;
      if (ops[x]!.kind !== '-') bStart++;
    }
    const hunk = ops.slice(start, end);
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${aLen ? aStart + 1 : aStart},${aLen} +${bLen ? bStart + 1 : bStart},${bLen} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.text}`);
    k = end;
  }
  return out.join('\n') + '\n';
}

export interface ApplyOptions {
  dryRun?: boolean;
  /** Clock for backup names (tests). */
  now?: () => Date;
}

export interface ApplyResult {
  /** Files written (or, in a dry run, that would be written). */
  changed: string[];
  /** Backups created, in the order of `changed` (files that did not exist get none). */
  backups: string[];
  unchanged: string[];
  /** Backup per changed path; absent for files that were created. */
  backupOf: Record<string, string>;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** `<file>.bak-20260102T030405Z`, with `-1`, `-2`… when that name is taken. */
function backupPath(path: string, now: Date): string {
  const base = `${path}.bak-${stamp(now)}`;
  let candidate = base;
  for (let n = 1; existsSync(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}

/** Writes `text` to `path` through a temp file in the same directory and a rename. */
function writeAtomic(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.lw-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    chmodSync(tmp, mode); // the umask may have narrowed the mode given to open()
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function applyFile(file: FilePlan, dryRun: boolean, now: Date, result: ApplyResult): void {
  // Follow a symlinked config (dotfile managers) so the link survives the rename.
  const target = existsSync(file.path) ? realpathSync(file.path) : file.path;
  const current = readText(target);
  if (current === file.after) {
    result.unchanged.push(file.path);
    return;
  }
  if (current !== file.before) {
    throw new Error(`${file.path} changed while lw was planning the edit; run the command again`);
  }
  result.changed.push(file.path);
  if (dryRun) return;
  const oldMode = current === null ? null : statSync(target).mode & 0o777;
  const mode = file.mode ?? oldMode ?? 0o644;
  if (current !== null) {
    const backup = backupPath(file.path, now);
    copyFileSync(target, backup, constants.COPYFILE_EXCL);
    chmodSync(backup, oldMode ?? 0o600);
    result.backups.push(backup);
    result.backupOf[file.path] = backup;
  }
  writeAtomic(target, file.after, mode);
}

/**
 * Writes every changed file of a plan: backup of the old file next to it, then an atomic replace
 * keeping the old mode (or the plan's mode, 0o600 for secrets). Unchanged files are left alone.
 * @example
 * const r = applyPlan(planCodex(input, readText), { dryRun: false });
 * // r.changed = ['/home/me/.codex/config.toml'], r.backups = ['/home/me/.codex/config.toml.bak-2026…Z']
 */
export function applyPlan(plan: ConfigurePlan, options: ApplyOptions = {}): ApplyResult {
  const now = (options.now ?? (() => new Date()))();
  const result: ApplyResult = { changed: [], backups: [], unchanged: [], backupOf: {} };
  for (const file of plan.files) applyFile(file, options.dryRun === true, now, result);
  return result;
}
