/**
 * @module The admin service on the store: every admin operation, used by the daemon's admin API and by
 * the CLI in direct mode. Each mutation runs in one transaction that also bumps the store revision,
 * then announces it (NOTIFY `lw_changes`) so running daemons reload within a second.
 */
import { randomBytes } from 'node:crypto';
import type { Db, Store } from '../db/client.js';
import * as keysQ from '../db/queries/keys.js';
import type { NewKeyRow } from '../db/queries/keys.js';
import { bumpRevision, CHANGES_CHANNEL } from '../db/queries/meta.js';
import * as modelsQ from '../db/queries/models.js';
import * as providersQ from '../db/queries/providers.js';
import * as tiersQ from '../db/queries/tiers.js';
import type { TierRow } from '../db/queries/tiers.js';
import { displayPrefix, generateApiKey, hashApiKey, KEY_PREFIX } from '../lib/api-key.js';
import * as v from './input.js';
import { emptyToNull, obj, str, tierPatch } from './input.js';
import { applySync, listProviderModels, optCapabilities } from './model-sync.js';
import { providerFields } from './provider-input.js';
import { testProvider } from './provider-test.js';
import type { AdminService, KeySetInput, ModelView } from './types.js';
import { AdminError } from './types.js';
import { keyView, modelView, providerView, tierView } from './views.js';
import type { KeyFlat } from './views.js';

export interface StoreServiceOptions {
  /** Tier for new keys when none is named (config `default_tier`); else the tier marked default. */
  defaultTier?: string;
  /** Where provider API-key variables are looked up (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Called after every committed change. When it returns a promise the mutation waits for it, so a
   * daemon passing `() => live.reload()` serves its own admin API's writes as soon as they return.
   */
  onChange?: () => void | Promise<void>;
  /** Usage reporting, implemented over the usage tables elsewhere. */
  usage?: AdminService['usage'];
  fetchImpl?: typeof fetch;
}

const newId = (kind: string) => `${kind}_${randomBytes(8).toString('hex')}`;

export function createStoreService(store: Store, opts: StoreServiceOptions = {}): AdminService {
  const { db } = store;
  const env = opts.env ?? process.env;

  /** Runs a change in a transaction with the revision bump, then announces it. */
  async function mutate<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    let revision = 0;
    let result: T;
    try {
      result = await db.transaction(async (tx) => {
        const r = await fn(tx);
        revision = await bumpRevision(tx);
        return r;
      });
    } catch (e) {
      if (v.isUniqueViolation(e)) {
        throw new AdminError('conflict with a concurrent change; run the command again', 409);
      }
      throw e;
    }
    await store.notify(CHANGES_CHANNEL, String(revision)).catch(() => {});
    try {
      await opts.onChange?.();
    } catch {
      // a listener's failure must not fail a committed change
    }
    return result;
  }

  async function unknownTier(tx: Db, name: string): Promise<AdminError> {
    const known = (await tiersQ.listTiers(tx)).map((t) => t.name).join(', ');
    return new AdminError(`unknown tier '${name}' (known: ${known})`, 404);
  }

  async function tierByName(tx: Db, name: string): Promise<TierRow> {
    return (await tiersQ.findTierByName(tx, name)) ?? Promise.reject(await unknownTier(tx, name));
  }

  async function tierForNewKey(tx: Db, name: string | undefined): Promise<TierRow> {
    if (name !== undefined) return tierByName(tx, name);
    if (opts.defaultTier) return tierByName(tx, opts.defaultTier);
    const def = (await tiersQ.findDefaultTier(tx)) ?? (await tiersQ.findTierByName(tx, 'beta'));
    if (def) return def;
    throw new AdminError('no default tier: mark one with lw tiers set NAME --default, or pass --tier', 404);
  }

  async function resolveKey(tx: Db, ref: unknown): Promise<KeyFlat> {
    const r = str(ref, 'key reference');
    const rows = await keysQ.findKeyCandidates(tx, v.keyRefQuery(r));
    return v.pickKeyRef(r, rows.map((k) => ({ ...k.key, tierName: k.tierName })));
  }

  async function providerByName(tx: Db, name: unknown): Promise<providersQ.ProviderRow> {
    const n = str(name, 'provider name');
    const row = await providersQ.findProviderByName(tx, n);
    if (row) return row;
    const known = (await providersQ.listProviders(tx)).map((p) => p.name);
    const hint = known.length ? `known: ${known.join(', ')}` : 'none yet: add one with lw providers add';
    throw new AdminError(`unknown provider '${n}' (${hint})`, 404);
  }

  async function modelById(tx: Db, id: unknown): Promise<modelsQ.ModelRow> {
    const m = str(id, 'model id');
    const row = await modelsQ.findModel(tx, m);
    if (row) return row;
    const owner = await modelsQ.findNameOwner(tx, m);
    if (owner) throw new AdminError(`'${m}' is not a model id; did you mean '${owner.modelId}'?`, 404);
    throw new AdminError(`unknown model '${m}' (see lw models list)`, 404);
  }

  async function loadModelView(tx: Db, id: string): Promise<ModelView> {
    const row = await modelById(tx, id);
    const [deps, aliases] = await Promise.all([modelsQ.listDeployments(tx, id), modelsQ.listAliases(tx, id)]);
    return modelView(row, deps, aliases.map((a) => a.alias));
  }

  /** Adds an alias unless it is this model's already; ids and aliases are unique ignoring case. */
  async function addAlias(tx: Db, modelId: string, alias: string): Promise<void> {
    const owner = await modelsQ.findNameOwner(tx, alias);
    if (owner?.as === 'alias' && owner.modelId === modelId) {
      const mine = await modelsQ.listAliases(tx, modelId);
      if (mine.some((a) => a.alias === alias)) return;
    }
    if (owner?.as === 'id') throw new AdminError(`'${alias}' is already a model id ('${owner.modelId}')`, 409);
    if (owner) throw new AdminError(`alias '${alias}' is already taken by model '${owner.modelId}'`, 409);
    await modelsQ.insertAlias(tx, alias, modelId);
  }

  function setModelEnabled(id: string, enabled: boolean): Promise<ModelView> {
    return mutate(async (tx) => {
      const m = await modelById(tx, id);
      await modelsQ.updateModel(tx, m.id, { enabled });
      return loadModelView(tx, m.id);
    });
  }

  const keys: AdminService['keys'] = {
    async create(input) {
      const i = obj(input, 'key');
      const name = v.assertLabel(i.name, 'key name');
      if (name.startsWith(KEY_PREFIX)) {
        throw new AdminError(`key names cannot start with '${KEY_PREFIX}' (keys themselves do)`);
      }
      const models = emptyToNull(v.optStringList(i.models, 'models')) ?? null;
      const expiresAt = i.expires == null ? null : v.parseExpiry(str(i.expires, 'expires'));
      const creditsPico = v.optCredits(i.credits) ?? null;
      const tierName = i.tier == null ? undefined : str(i.tier, 'tier');
      const plaintext = generateApiKey();
      return mutate(async (tx) => {
        const tier = await tierForNewKey(tx, tierName);
        if (await keysQ.keyNameTaken(tx, name)) throw new AdminError(`a key named '${name}' already exists`, 409);
        const row = await keysQ.insertKey(tx, {
          id: newId('key'),
          name,
          prefix: displayPrefix(plaintext),
          hash: hashApiKey(plaintext),
          tierId: tier.id,
          models,
          creditsPico,
          expiresAt,
        });
        return { ...keyView({ ...row, tierName: tier.name }), key: plaintext };
      });
    },
    async list() {
      const now = new Date();
      return (await keysQ.listKeys(db)).map((k) => keyView({ ...k.key, tierName: k.tierName }, now));
    },
    async show(ref) {
      return keyView(await resolveKey(db, ref));
    },
    async revoke(ref) {
      return mutate(async (tx) => {
        const k = await resolveKey(tx, ref);
        const row = await keysQ.updateKey(tx, k.id, { status: 'revoked' });
        return keyView({ ...row, tierName: k.tierName });
      });
    },
    async rotate(ref) {
      const plaintext = generateApiKey();
      return mutate(async (tx) => {
        const k = await resolveKey(tx, ref);
        if (k.status === 'revoked') throw new AdminError(`key '${k.name}' is revoked; create a new key instead`, 409);
        const fresh = { hash: hashApiKey(plaintext), prefix: displayPrefix(plaintext) };
        const row = await keysQ.updateKey(tx, k.id, fresh);
        return { ...keyView({ ...row, tierName: k.tierName }), key: plaintext };
      });
    },
    async set(ref, input: KeySetInput) {
      const i = obj(input, 'key settings');
      const patch: Partial<NewKeyRow> = {};
      const models = v.optStringList(i.models, 'models');
      if (models !== undefined) patch.models = emptyToNull(models) ?? null;
      if (i.credits !== undefined) patch.creditsPico = v.optCredits(i.credits) ?? null;
      for (const [field, col] of [
        ['rpm', 'rpm'],
        ['tpm', 'tpm'],
        ['quota_tokens', 'quotaTokens'],
        ['max_concurrent', 'maxConcurrent'],
      ] as const) {
        const val = v.optLimit(i[field], field);
        if (val !== undefined) patch[col] = val;
      }
      if (i.expires !== undefined) {
        patch.expiresAt = i.expires === null ? null : v.parseExpiry(str(i.expires, 'expires'));
      }
      const tierName = i.tier == null ? undefined : str(i.tier, 'tier');
      if (Object.keys(patch).length === 0 && tierName === undefined) {
        throw new AdminError('nothing to change: pass --tier, --models, --credits, --rpm, --tpm or --expires');
      }
      return mutate(async (tx) => {
        const k = await resolveKey(tx, ref);
        const tier = tierName === undefined ? undefined : await tierByName(tx, tierName);
        if (tier) patch.tierId = tier.id;
        const row = await keysQ.updateKey(tx, k.id, patch);
        return keyView({ ...row, tierName: tier?.name ?? k.tierName });
      });
    },
  };

  const tiers: AdminService['tiers'] = {
    async list() {
      return (await tiersQ.listTiers(db)).map(tierView);
    },
    async create(name, input) {
      const n = v.assertSlug(name, 'tier');
      const patch = tierPatch(input);
      return mutate(async (tx) => {
        if (await tiersQ.findTierByName(tx, n)) {
          throw new AdminError(`tier '${n}' already exists (use lw tiers set)`, 409);
        }
        const row = await tiersQ.insertTier(tx, { ...patch, id: newId('tier'), name: n });
        if (input?.is_default) await tiersQ.setDefaultTier(tx, row.id);
        return tierView({ ...row, isDefault: Boolean(input?.is_default) });
      });
    },
    async set(name, input) {
      const patch = tierPatch(input);
      if (Object.keys(patch).length === 0 && input?.is_default === undefined) {
        throw new AdminError('nothing to change: pass --rpm, --tpm, --monthly-tokens, --models or --default');
      }
      return mutate(async (tx) => {
        const tier = await tierByName(tx, str(name, 'tier name'));
        if (input.is_default === false && tier.isDefault) {
          throw new AdminError(`tier '${tier.name}' is the default; make another tier the default instead`, 409);
        }
        const row = Object.keys(patch).length ? await tiersQ.updateTier(tx, tier.id, patch) : tier;
        if (input.is_default === true) await tiersQ.setDefaultTier(tx, tier.id);
        return tierView({ ...row, isDefault: input.is_default ?? row.isDefault });
      });
    },
    async delete(name) {
      return mutate(async (tx) => {
        const tier = await tierByName(tx, str(name, 'tier name'));
        if (tier.isDefault || tier.name === opts.defaultTier) {
          const why = 'make another tier the default first';
          throw new AdminError(`tier '${tier.name}' is the default for new keys; ${why}`, 409);
        }
        const n = await tiersQ.countKeysInTier(tx, tier.id);
        if (n > 0) {
          const keys = `${n} key${n === 1 ? '' : 's'}`;
          const how = 'move them first (lw keys set KEY --tier OTHER)';
          throw new AdminError(`tier '${tier.name}' is used by ${keys}; ${how}`, 409);
        }
        await tiersQ.deleteTier(tx, tier.id);
        return { deleted: tier.name };
      });
    },
  };

  const providers: AdminService['providers'] = {
    async add(input) {
      const i = obj(input, 'provider');
      const { name, kind, baseUrl, apiKeyEnv, headers, timeouts, supportsResponses } = providerFields(i);
      return mutate(async (tx) => {
        if (await providersQ.findProviderByName(tx, name)) {
          throw new AdminError(`a provider named '${name}' already exists (lw providers remove ${name} first)`, 409);
        }
        const row = await providersQ.insertProvider(tx, {
          id: newId('prov'),
          name,
          kind,
          baseUrl,
          apiKeyEnv,
          headers,
          timeouts,
          supportsResponses,
        });
        return providerView(row, env);
      });
    },
    async list() {
      return (await providersQ.listProviders(db)).map((p) => providerView(p, env));
    },
    async remove(name) {
      return mutate(async (tx) => {
        const p = await providerByName(tx, name);
        const served = await providersQ.deleteProvider(tx, p.id);
        return { removed: p.name, orphaned_models: await modelsQ.modelsWithoutDeployments(tx, served) };
      });
    },
    async test(name) {
      const p = await providerByName(db, name);
      return testProvider(p, env, opts.fetchImpl ?? fetch);
    },
  };

  const models: AdminService['models'] = {
    async list() {
      const [rows, deps, aliases] = await Promise.all([
        modelsQ.listModels(db),
        modelsQ.listDeployments(db),
        modelsQ.listAliases(db),
      ]);
      const aliasesOf = (id: string) => aliases.filter((a) => a.modelId === id).map((a) => a.alias);
      return rows.map((m) => modelView(m, deps.filter((d) => d.deployment.modelId === m.id), aliasesOf(m.id)));
    },
    async add(input) {
      const i = obj(input, 'model');
      const id = v.assertLabel(i.id, 'model id');
      const upstreamModel = i.upstream_model == null ? id : v.assertLabel(i.upstream_model, 'upstream model');
      const aliases = (v.optStringList(i.aliases, 'aliases') ?? []).map((a) => v.assertLabel(a, 'alias'));
      const fields = {
        kind: v.oneOf(i.kind, ['chat', 'embedding'] as const, 'kind'),
        status: v.oneOf(i.status, ['GA', 'Preview'] as const, 'status'),
        contextWindow: v.optPositive(i.context_window, 'context_window'),
        maxOutput: v.optPositive(i.max_output, 'max_output'),
        priceInMicros: v.optPrice(i.price_in, 'price_in'),
        priceOutMicros: v.optPrice(i.price_out, 'price_out'),
        priceCachedInMicros: v.optPrice(i.price_cached_in, 'price_cached_in'),
        capabilities: optCapabilities(i.capabilities),
      };
      const priority = v.optLimit(i.priority, 'priority') ?? undefined;
      const weight = v.optPositive(i.weight, 'weight') ?? 1;
      return mutate(async (tx) => {
        const provider = await providerByName(tx, i.provider);
        const existing = await modelsQ.findModel(tx, id);
        if (existing) {
          if (await modelsQ.findDeployment(tx, id, provider.id, upstreamModel)) {
            const what = `model '${id}' already has a deployment on '${provider.name}' (upstream '${upstreamModel}')`;
            throw new AdminError(what, 409);
          }
        } else {
          const owner = await modelsQ.findNameOwner(tx, id);
          if (owner?.as === 'alias') {
            throw new AdminError(`'${id}' is already an alias of model '${owner.modelId}'`, 409);
          }
          if (owner) {
            throw new AdminError(`model '${owner.modelId}' already exists (ids are unique ignoring case)`, 409);
          }
          const defined = Object.fromEntries(Object.entries(fields).filter(([, val]) => val !== undefined));
          await modelsQ.insertModel(tx, { ...defined, id });
        }
        await modelsQ.insertDeployment(tx, {
          id: newId('dep'),
          modelId: id,
          providerId: provider.id,
          upstreamModel,
          priority: priority ?? (existing ? await modelsQ.nextPriority(tx, id) : 0),
          weight,
        });
        for (const a of aliases) await addAlias(tx, id, a);
        return { ...(await loadModelView(tx, id)), added: existing ? ('deployment' as const) : ('model' as const) };
      });
    },
    async alias(id, alias) {
      const a = v.assertLabel(alias, 'alias');
      return mutate(async (tx) => {
        const m = await modelById(tx, id);
        await addAlias(tx, m.id, a);
        return loadModelView(tx, m.id);
      });
    },
    async remove(id) {
      return mutate(async (tx) => {
        const m = await modelById(tx, id);
        await modelsQ.deleteModel(tx, m.id);
        return { removed: m.id };
      });
    },
    enable: (id) => setModelEnabled(id, true),
    disable: (id) => setModelEnabled(id, false),
    async sync(name) {
      const p = await providerByName(db, name);
      const ids = await listProviderModels(p, env, opts.fetchImpl ?? fetch);
      return mutate(async (tx) => applySync(tx, await providerByName(tx, p.name), ids));
    },
  };

  const usage: AdminService['usage'] = opts.usage ?? {
    report: () => Promise.reject(new AdminError('usage reporting unavailable', 503)),
  };

  return { keys, tiers, providers, models, usage };
}
