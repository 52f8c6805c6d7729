import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/daemon/errors.js';
import { chooseAuto, isAutoRequest, requestNeeds, withRoutingInfo } from '../../../src/daemon/routing/auto.js';
import { health, key, model, snapshot } from './fixtures.js';

function fails(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('isAutoRequest', () => {
  it('is true for auto in any case unless a model or alias is called auto', () => {
    const plain = snapshot([model({ id: 'gpt' })]);
    expect(isAutoRequest(plain, 'auto')).toBe(true);
    expect(isAutoRequest(plain, 'AUTO')).toBe(true);
    expect(isAutoRequest(plain, 'gpt')).toBe(false);
    expect(isAutoRequest(snapshot([model({ id: 'Auto' })]), 'auto')).toBe(false);
    expect(isAutoRequest(snapshot([model({ id: 'gpt', aliases: ['auto'] })]), 'auto')).toBe(false);
  });
});

describe('chooseAuto', () => {
  const none = { tools: false, vision: false, promptTokens: 10 };

  it('picks the healthy model over a cooling one, and says why', () => {
    const snap = snapshot([model({ id: 'a', price: [0.1, 0.1] }), model({ id: 'b', price: [9, 9] })]);
    const c = chooseAuto(snap, key(), none, health({ cooling: ['p1/a'] }));
    expect(c.model.id).toBe('b');
    expect(c.reason).toBe('auto: best of 1 healthy candidate with a context window over 10 tokens; 1/1 deployment healthy, latency not measured yet, GA, $18 per 1M in+out');
  });

  it('prefers a model with all deployments healthy over one with some cooling', () => {
    const snap = snapshot([model({ id: 'half', on: ['p1', 'p2'], price: [0.1, 0.1] }), model({ id: 'full', price: [9, 9] })]);
    expect(chooseAuto(snap, key(), none, health({ cooling: ['p1/half'] })).model.id).toBe('full');
  });

  it('then the lowest recent latency, then GA over Preview, then the cheaper', () => {
    const models = [
      model({ id: 'slow-cheap', price: [0.1, 0.1] }),
      model({ id: 'fast-dear', price: [10, 30] }),
      model({ id: 'fast-preview', price: [0.1, 0.1], status: 'Preview' }),
    ];
    const h = health({ latency: { 'p1/slow-cheap': 3000, 'p1/fast-dear': 300, 'p1/fast-preview': 280 } });
    expect(chooseAuto(snapshot(models), key(), none, h).model.id).toBe('fast-dear');
    const sameSpeed = health({ latency: { 'p1/slow-cheap': 300, 'p1/fast-dear': 300, 'p1/fast-preview': 300 } });
    expect(chooseAuto(snapshot(models), key(), none, sameSpeed).model.id).toBe('slow-cheap');
    expect(chooseAuto(snapshot(models.slice(1)), key(), none, sameSpeed).model.id).toBe('fast-dear');
  });

  it('an untried model wins over known slow ones and loses to known fast ones', () => {
    const models = [model({ id: 'known', price: [1, 1] }), model({ id: 'new', price: [5, 5] })];
    expect(chooseAuto(snapshot(models), key(), none, health({ latency: { 'p1/known': 9000 } })).model.id).toBe('new');
    expect(chooseAuto(snapshot(models), key(), none, health({ latency: { 'p1/known': 900 } })).model.id).toBe('known');
  });

  it('honours the request needs: tools (true or unknown), vision, context', () => {
    const snap = snapshot([
      model({ id: 'notools', capabilities: { tools: false, vision: true }, price: [0, 0] }),
      model({ id: 'unknown', capabilities: {}, contextWindow: null, price: [1, 1] }),
      model({ id: 'eyes', capabilities: { tools: true, vision: true }, contextWindow: 32_000, price: [2, 2] }),
    ]);
    expect(chooseAuto(snap, key(), none, health()).model.id).toBe('notools');
    expect(chooseAuto(snap, key(), { ...none, tools: true }, health()).model.id).toBe('unknown');
    expect(chooseAuto(snap, key(), { ...none, tools: true, vision: true }, health()).model.id).toBe('eyes');
    expect(chooseAuto(snap, key(), { ...none, vision: true, promptTokens: 40_000 }, health()).model.id).toBe('notools');
  });

  it('only looks at models the key may use', () => {
    const snap = snapshot([model({ id: 'cheap', price: [0, 0] }), model({ id: 'gpt-4o', price: [5, 5] })]);
    expect(chooseAuto(snap, key(['gpt-*']), none, health()).model.id).toBe('gpt-4o');
  });

  it('404 when the key may use no chat model, 400 when none fits, 503 when all fitting ones cool down', () => {
    const snap = snapshot([model({ id: 'a', capabilities: { vision: false } }), model({ id: 'e', kind: 'embedding' })]);
    const e404 = fails(() => chooseAuto(snap, key(['e']), none, health()));
    expect([e404.status, e404.code]).toEqual([404, 'model_not_found']);
    const e400 = fails(() => chooseAuto(snap, key(), { ...none, vision: true }, health()));
    expect([e400.status, e400.code, e400.message]).toEqual([400, 'invalid_request', "'auto' found no model for this request: none of the 1 model this key may use has vision, a context window over 10 tokens."]);
    const e503 = fails(() => chooseAuto(snap, key(), none, health({ cooling: ['p1/a'] })));
    expect([e503.status, e503.code]).toEqual([503, 'no_upstream_available']);
  });
});

describe('requestNeeds', () => {
  const tokens = () => 42;
  it('reads tools and images from chat, responses and messages bodies', () => {
    expect(requestNeeds({ messages: [{ role: 'user', content: 'hi' }] }, tokens)).toEqual({ tools: false, vision: false, promptTokens: 42 });
    expect(requestNeeds({ messages: [], tools: [{ type: 'function' }] }, tokens).tools).toBe(true);
    expect(requestNeeds({ messages: [], tools: [] }, tokens).tools).toBe(false);
    const chatImage = { messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image_url', image_url: { url: 'data:' } }] }] };
    expect(requestNeeds(chatImage, tokens).vision).toBe(true);
    const responsesImage = { input: [{ type: 'message', role: 'user', content: [{ type: 'input_image', image_url: 'https://x' }] }] };
    expect(requestNeeds(responsesImage, tokens).vision).toBe(true);
    const messagesImage = { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', data: '' } }] }] };
    expect(requestNeeds(messagesImage, tokens).vision).toBe(true);
    expect(requestNeeds({ input: 'just text' }, tokens).vision).toBe(false);
  });
});

describe('withRoutingInfo', () => {
  const info = { model: 'gpt-4o', provider: 'openai', reason: 'auto: "best"' };
  it('adds the field before the closing brace, for strings and buffers', () => {
    const body = JSON.stringify({ id: 'x', choices: [{ message: { content: '}' } }] });
    expect(JSON.parse(withRoutingInfo(body, info) as string)).toEqual({ ...JSON.parse(body), routing_info: info });
    const buf = Buffer.from('{"id":"x"}\n');
    expect(JSON.parse(String(withRoutingInfo(buf, info)))).toEqual({ id: 'x', routing_info: info });
    expect(JSON.parse(String(withRoutingInfo('{ }', info)))).toEqual({ routing_info: info });
  });
  it('leaves anything that is not an object alone', () => {
    expect(withRoutingInfo('[1]', info)).toBe('[1]');
    expect(withRoutingInfo('oops', info)).toBe('oops');
  });
});
