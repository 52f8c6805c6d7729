/**
 * @module The contract of `lw configure` and `lw service install`: pure planners turn a
 * {@link ConfigureInput} plus the current file contents into a {@link ConfigurePlan}; `apply.ts`
 * is the only code that touches the disk.
 */

/** The clients `lw configure` knows how to point at the gateway. */
export type ClientTarget = 'codex' | 'aider' | 'zed' | 'claude';

export const CLIENT_TARGETS: readonly ClientTarget[] = ['codex', 'aider', 'zed', 'claude'];

/** What a client config needs to know about one gateway model (a view of the catalog). */
export interface CatalogModelInfo {
  id: string;
  /** Context window in tokens; null = unknown. */
  contextWindow: number | null;
  /** Max output tokens; null = unknown. */
  maxOutput: number | null;
  /** USD per million input tokens as an exact decimal string (`'0.15'`); null = no price. */
  priceIn: string | null;
  /** USD per million output tokens as an exact decimal string; null = no price. */
  priceOut: string | null;
  vision?: boolean;
  tools?: boolean;
}

export interface ConfigureInput {
  /** The gateway's OpenAI base URL, ending in `/v1`. */
  baseUrl: string;
  /** The model the client uses by default. */
  model: string;
  /** The plaintext `lw-…` key when known; planners write it only where the user asked for it. */
  key?: string;
  /** Enabled chat models of the catalog (the default model is always among them). */
  models: CatalogModelInfo[];
  env: NodeJS.ProcessEnv;
  homeDir: string;
}

/** One file a plan wants to exist with `after` as its content. */
export interface FilePlan {
  path: string;
  /** Current content; null when the file does not exist. */
  before: string | null;
  after: string;
  /** Forced file mode (secrets: 0o600); otherwise a file keeps its mode, new files get 0o644. */
  mode?: number;
}

export interface ConfigurePlan {
  /** A client id or `service`. */
  client: ClientTarget | 'service';
  files: FilePlan[];
  /** What the user still has to do, one line each (e.g. `export LW_API_KEY=lw-…`). */
  instructions: string[];
}

/** Reads a file as UTF-8 text; null when it does not exist. Planners get one so they stay pure. */
export type ReadText = (path: string) => string | null;

/** A file a planner refuses to edit (unparseable, unexpected shape): the message says which and why. */
export class ConfigureError extends Error {
  override name = 'ConfigureError';
}

/** Placeholder used in instructions when the plaintext key is not known (an existing key was reused). */
export const KEY_PLACEHOLDER = '<your lw key>';
