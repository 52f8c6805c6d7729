/** @module Everything the request path needs, handed in once (no module singletons). */
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import type { Limiter } from './limits/types.js';
import type { Metrics } from './metrics.js';
import type { DeploymentHealth } from './pipeline/health.js';
import type { UpstreamPools } from './providers/upstream.js';
import type { Snapshot } from './state/types.js';
import type { UsageSink } from './usage/types.js';

export interface GatewayDeps {
  config: Config;
  state: { readonly current: Snapshot };
  limiter: Limiter;
  usage: UsageSink;
  pools: UpstreamPools;
  health: DeploymentHealth;
  metrics: Metrics;
  log: Logger;
  env: NodeJS.ProcessEnv;
  now(): number;
  /** Requests in flight (drained on SIGTERM). */
  inflight: { count: number };
  /** Set once SIGTERM arrived: new requests get 503. */
  draining: { value: boolean };
}
