/**
 * @module Deployment health: consecutive failures cool a deployment down (30 s doubling up to 5 min);
 * one success recovers it. Also the order in which a model's deployments are tried.
 */
import type { DeploymentEntry } from '../state/types.js';

interface HealthState {
  failures: number;
  coolUntil: number;
  /** Exponentially weighted latency, ms; used by `auto` routing. */
  latencyMs: number;
}

const FAILURES_BEFORE_COOLDOWN = 3;
const BASE_COOLDOWN_MS = 30_000;
const MAX_COOLDOWN_MS = 300_000;

export function deploymentKey(d: DeploymentEntry): string {
  return `${d.provider.id}/${d.upstreamModel}`;
}

export class DeploymentHealth {
  private readonly states = new Map<string, HealthState>();

  constructor(private readonly now: () => number = Date.now) {}

  private get(d: DeploymentEntry): HealthState {
    const k = deploymentKey(d);
    let s = this.states.get(k);
    if (!s) {
      s = { failures: 0, coolUntil: 0, latencyMs: 0 };
      this.states.set(k, s);
    }
    return s;
  }

  isCooling(d: DeploymentEntry): boolean {
    return (this.states.get(deploymentKey(d))?.coolUntil ?? 0) > this.now();
  }

  latency(d: DeploymentEntry): number {
    return this.states.get(deploymentKey(d))?.latencyMs ?? 0;
  }

  success(d: DeploymentEntry, ms: number): void {
    const s = this.get(d);
    s.failures = 0;
    s.coolUntil = 0;
    s.latencyMs = s.latencyMs === 0 ? ms : s.latencyMs * 0.8 + ms * 0.2;
  }

  failure(d: DeploymentEntry): void {
    const s = this.get(d);
    s.failures++;
    if (s.failures >= FAILURES_BEFORE_COOLDOWN) {
      const exp = Math.min(MAX_COOLDOWN_MS, BASE_COOLDOWN_MS * 2 ** (s.failures - FAILURES_BEFORE_COOLDOWN));
      s.coolUntil = this.now() + exp;
    }
  }

  /**
   * Deployments in the order to try them: by priority, equal priorities shuffled by weight,
   * cooling ones last (still tried when nothing else is left).
   */
  order(deployments: readonly DeploymentEntry[], random: () => number = Math.random): DeploymentEntry[] {
    if (deployments.length === 1) return deployments as DeploymentEntry[];
    const groups = new Map<number, DeploymentEntry[]>();
    for (const d of deployments) {
      const g = groups.get(d.priority);
      if (g) g.push(d);
      else groups.set(d.priority, [d]);
    }
    const ordered: DeploymentEntry[] = [];
    for (const p of [...groups.keys()].sort((a, b) => a - b)) ordered.push(...weightedShuffle(groups.get(p)!, random));
    const healthy = ordered.filter((d) => !this.isCooling(d));
    const cooling = ordered.filter((d) => this.isCooling(d));
    return healthy.concat(cooling);
  }
}

function weightedShuffle(items: DeploymentEntry[], random: () => number): DeploymentEntry[] {
  if (items.length === 1) return items;
  const pool = items.slice();
  const out: DeploymentEntry[] = [];
  while (pool.length) {
    const total = pool.reduce((s, d) => s + Math.max(0, d.weight), 0);
    let r = random() * (total || pool.length);
    let idx = 0;
    for (; idx < pool.length - 1; idx++) {
      r -= total ? Math.max(0, pool[idx]!.weight) : 1;
      if (r < 0) break;
    }
    out.push(pool.splice(idx, 1)[0]!);
  }
  return out;
}
