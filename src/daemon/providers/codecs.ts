/**
 * @module The hub-side codec of each provider kind: how a deployment's upstream takes a Chat request
 * and answers with Chat objects, for every exchange that translates (client and upstream formats differ).
 */
import type { UpstreamCodec } from '../pipeline/translated.js';
import type { DeploymentEntry } from '../state/types.js';
import { anthropicChatCodec } from './anthropic.js';
import { openaiChatCodec } from './openai-chat.js';

export function upstreamCodecFor(d: DeploymentEntry, requestId: string): UpstreamCodec {
  switch (d.provider.kind) {
    case 'anthropic':
      return anthropicChatCodec(d.upstreamModel, requestId);
    case 'openai':
      return openaiChatCodec(d.upstreamModel);
    default: {
      const never: never = d.provider.kind;
      throw new Error(`no codec for provider kind '${String(never)}'`);
    }
  }
}
