/** @module Semantic colour tokens for the CLI's ink components; no colour literal appears anywhere else. */

/** Token → ink colour name. Change the palette here, never in a component. */
export const theme = {
  ok: 'green',
  warn: 'yellow',
  error: 'red',
  muted: 'gray',
  accent: 'cyan',
  heading: 'blueBright',
  secret: 'greenBright',
  bar: 'magenta',
} as const;

export type Tone = keyof typeof theme;

/** The ink colour for a tone, or undefined (terminal default) when none is given. */
export function toneColor(tone: Tone | undefined): string | undefined {
  return tone === undefined ? undefined : theme[tone];
}
