/**
 * @module Preloaded into Portkey's server (`node --import`) by `--peer portkey`. Portkey 1.15 appends
 * headers to the Response that global fetch returned; on Node 20 those headers are immutable, so every
 * stream and embeddings request fails with "TypeError: immutable" (Portkey-AI/gateway#1389, #1550).
 * This re-wraps each fetch Response in a new one with mutable headers, as Portkey's own fix does
 * (Portkey-AI/gateway#1551). Cost: one Response object per request, small next to Portkey's own.
 */
const nativeFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const r = await nativeFetch(...args);
  return new globalThis.Response(r.body, { status: r.status, statusText: r.statusText, headers: r.headers });
};
