/** @module The Hono environment of the daemon's non-inference routes: typed `c.get('deps')`, `c.get('key')`. */
import type { GatewayDeps } from './deps.js';
import type { KeyEntry } from './state/types.js';

export interface DaemonEnv {
  Variables: {
    deps: GatewayDeps;
    requestId: string;
    key: KeyEntry;
  };
}
