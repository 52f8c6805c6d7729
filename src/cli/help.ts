/** @module The `Examples:` block appended to every command's `--help`. */

/**
 * @example cmd.addHelpText('after', examples('lw keys list', 'lw keys list --json'))
 */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
