/**
 * @module Where CLI output goes: exact JSON with `--json`, ink on a TTY, plain aligned text otherwise.
 * The only file of the CLI that touches process.stdout / process.stderr.
 */
import { stripVTControlCharacters } from 'node:util';
import type { ReactElement } from 'react';
import { plainFields, plainTable, type Column } from './format.js';
import type { InkKit } from './ui/load.js';
import { theme } from './ui/theme.js';

/** What output needs of a stream; process.stdout fits, and so does a test's capture. */
export interface OutputStream {
  write(chunk: string): boolean;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

export interface OutputOptions {
  json: boolean;
  stdout?: OutputStream;
  stderr?: OutputStream;
  /** Defaults to stdout.isTTY. */
  isTTY?: boolean;
  /** Terminal width for ink; defaults to stdout.columns or 80. */
  columns?: number;
  /**
   * The ink kit (ui/load.ts), loaded by the caller when it wants rendered output; without it a TTY
   * gets plain text and ink views are printed as nothing.
   */
  kit?: InkKit | null | undefined;
}

/** Builds an ink element from the kit (so callers need no static import of ink or react). */
export type InkView = (kit: InkKit) => ReactElement;

export type OutputMode = 'json' | 'ink' | 'plain';

/** A view re-rendered in place (watch mode). */
export interface LiveView {
  update(view: InkView): void;
  stop(): void;
}

export interface Output {
  readonly mode: OutputMode;
  readonly isJson: boolean;
  /** Prints exactly this JSON value (pretty, newline-terminated). Ignored unless `--json`. */
  json(value: unknown): void;
  /** One compact JSON value per line (watch mode). Ignored unless `--json`. */
  jsonLine(value: unknown): void;
  table<T>(columns: readonly Column<T>[], rows: readonly T[], empty?: string): void;
  fields(pairs: ReadonlyArray<readonly [string, string]>): void;
  line(text?: string): void;
  success(text: string): void;
  /** Warnings go to stderr in every mode, so `--json` stdout stays parseable. */
  warn(text: string): void;
  /** `error: <reason>` (+ `hint: …`) on stderr. */
  error(text: string, hint?: string): void;
  /** Raw diagnostic text on stderr (LW_DEBUG stack traces). */
  debug(text: string): void;
  /** Renders an ink view once (TTY: coloured; plain: ANSI stripped). Ignored with `--json` or without the kit. */
  renderInk(view: InkView): void;
  /** A view that re-renders in place on a TTY; elsewhere each update is printed once. */
  live(view: InkView): LiveView;
}

/**
 * @example
 * const out = createOutput({ json: opts.json === true });
 * out.isJson ? out.json(keys) : out.table(keyColumns, keys, 'no keys yet');
 */
export function createOutput(options: OutputOptions): Output {
  const stdout: OutputStream = options.stdout ?? process.stdout;
  const stderr: OutputStream = options.stderr ?? process.stderr;
  const tty = options.isTTY ?? stdout.isTTY === true;
  const kit = options.kit ?? null;
  const mode: OutputMode = options.json ? 'json' : tty && kit ? 'ink' : 'plain';
  const columns = options.columns ?? (stdout.columns && stdout.columns > 0 ? stdout.columns : 80);
  const human = mode !== 'json';
  const print = (text: string): void => void stdout.write(text.endsWith('\n') ? text : text + '\n');
  const inkText = (k: InkKit, element: ReactElement): string => {
    const text = k.renderToString(element, { columns });
    return mode === 'ink' ? text : stripVTControlCharacters(text);
  };

  const out: Output = {
    mode,
    isJson: mode === 'json',
    json(value) {
      if (mode === 'json') print(JSON.stringify(value, null, 2));
    },
    jsonLine(value) {
      if (mode === 'json') print(JSON.stringify(value));
    },
    table(cols, rows, empty = 'nothing to show') {
      if (mode === 'ink' && kit) print(inkText(kit, kit.createElement(kit.Table<(typeof rows)[number]>, { columns: cols, rows, empty })));
      else if (human) print(rows.length === 0 ? empty : plainTable(cols, rows));
    },
    fields(pairs) {
      if (mode === 'ink' && kit) print(inkText(kit, kit.createElement(kit.Fields, { pairs })));
      else if (human) print(plainFields(pairs));
    },
    line(text = '') {
      if (human) print(text);
    },
    success(text) {
      if (mode === 'ink' && kit) print(inkText(kit, kit.createElement(kit.Text, null, kit.createElement(kit.Text, { color: theme.ok }, '✓ '), text)));
      else if (human) print(text);
    },
    warn(text) {
      stderr.write(`warning: ${text}\n`);
    },
    error(text, hint) {
      stderr.write(`error: ${text}\n${hint ? `hint: ${hint}\n` : ''}`);
    },
    debug(text) {
      stderr.write(text.endsWith('\n') ? text : text + '\n');
    },
    renderInk(view) {
      if (human && kit) print(inkText(kit, view(kit)));
    },
    live(view) {
      if (mode !== 'ink' || !kit) {
        out.renderInk(view);
        return { update: (next) => out.renderInk(next), stop: () => {} };
      }
      // ink needs a real write stream (events, columns); on a TTY stdout is one.
      const instance = kit.render(view(kit), {
        stdout: stdout as NodeJS.WriteStream,
        stderr: stderr as NodeJS.WriteStream,
        patchConsole: false,
        exitOnCtrlC: false,
      });
      return {
        update: (next) => instance.rerender(next(kit)),
        stop: () => instance.unmount(),
      };
    },
  };
  return out;
}
