/**
 * @module Where CLI output goes: exact JSON with `--json`, ink on a TTY, plain aligned text otherwise.
 * The only file of the CLI that touches process.stdout / process.stderr.
 */
import { stripVTControlCharacters } from 'node:util';
import { render, renderToString, Text } from 'ink';
import { createElement, type ReactElement } from 'react';
import { plainFields, plainTable, type Column } from './format.js';
import { Fields, Table } from './ui/Table.js';
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
}

export type OutputMode = 'json' | 'ink' | 'plain';

/** A view re-rendered in place (watch mode). */
export interface LiveView {
  update(element: ReactElement): void;
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
  /** Renders an ink element once (TTY: coloured; plain: ANSI stripped). Ignored with `--json`. */
  renderInk(element: ReactElement): void;
  /** A view that re-renders in place on a TTY; elsewhere each update is printed once. */
  live(element: ReactElement): LiveView;
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
  const mode: OutputMode = options.json ? 'json' : tty ? 'ink' : 'plain';
  const columns = options.columns ?? (stdout.columns && stdout.columns > 0 ? stdout.columns : 80);
  const human = mode !== 'json';
  const print = (text: string): void => void stdout.write(text.endsWith('\n') ? text : text + '\n');
  const inkText = (element: ReactElement): string => {
    const text = renderToString(element, { columns });
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
      if (mode === 'ink') print(inkText(createElement(Table<(typeof rows)[number]>, { columns: cols, rows, empty })));
      else if (human) print(rows.length === 0 ? empty : plainTable(cols, rows));
    },
    fields(pairs) {
      if (mode === 'ink') print(inkText(createElement(Fields, { pairs })));
      else if (human) print(plainFields(pairs));
    },
    line(text = '') {
      if (human) print(text);
    },
    success(text) {
      if (mode === 'ink') print(inkText(createElement(Text, null, createElement(Text, { color: theme.ok }, '✓ '), text)));
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
    renderInk(element) {
      if (human) print(inkText(element));
    },
    live(element) {
      if (mode !== 'ink') {
        out.renderInk(element);
        return { update: (next) => out.renderInk(next), stop: () => {} };
      }
      // ink needs a real write stream (events, columns); on a TTY stdout is one.
      const instance = render(element, {
        stdout: stdout as NodeJS.WriteStream,
        stderr: stderr as NodeJS.WriteStream,
        patchConsole: false,
        exitOnCtrlC: false,
      });
      return {
        update: (next) => instance.rerender(next),
        stop: () => instance.unmount(),
      };
    },
  };
  return out;
}
