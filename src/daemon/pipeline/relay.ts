/**
 * @module Relaying an upstream answer to the client on the raw node:http response: JSON in one write,
 * SSE frame by frame (never batched or delayed), with backpressure, and a client disconnect aborting
 * the upstream at once. Every stream error is handled here so nothing can crash the process.
 */
import { GatewayError } from '../errors.js';
import { classifyTransportError, isAbortError, type UpstreamResponse } from '../providers/upstream.js';
import { SseFramer } from '../http/sse.js';
import type { GatewayResponse } from '../http/server/response.js';
import type { StreamRelay } from './exchange.js';

export type StreamOutcome = 'completed' | 'client_aborted' | 'upstream_failed';

export interface StreamResult {
  outcome: StreamOutcome;
  /** ms from the start of the relay to the first byte written to the client. */
  firstByteAt: number | null;
  error: GatewayError | null;
}

/**
 * Pipes upstream SSE frames through `relay` to `res`. Resolves (never rejects) when the upstream ends,
 * fails, or the client goes away; `abort` is called on client disconnect.
 */
export function relayStream(
  res: GatewayResponse,
  up: UpstreamResponse,
  relay: StreamRelay,
  abort: () => void,
  providerName: string,
  now: () => number,
): Promise<StreamResult> {
  return new Promise((resolve) => {
    const framer = new SseFramer();
    const body = up;
    let firstByteAt: number | null = null;
    let settled = false;
    let draining = false;

    const write = (out: string | Buffer | null): void => {
      if (out === null || out.length === 0 || res.writableEnded || res.destroyed) return;
      if (firstByteAt === null) firstByteAt = now();
      if (!res.write(out) && !draining) {
        draining = true;
        body.pause();
        res.once('drain', () => {
          draining = false;
          body.resume();
        });
      }
    };

    const finish = (outcome: StreamOutcome, error: GatewayError | null): void => {
      if (settled) return;
      settled = true;
      res.off('close', onClose);
      resolve({ outcome, firstByteAt, error });
    };

    const onClose = (): void => {
      if (res.writableFinished) return;
      body.destroy();
      abort();
      finish('client_aborted', null);
    };
    res.on('close', onClose);
    res.on('error', () => onClose());

    const fail = (gerr: GatewayError): void => {
      try {
        write(relay.fail(gerr));
      } catch {
        // the relay could not render the failure: ending the response still tells the client
      }
      if (!res.writableEnded) res.end();
      finish('upstream_failed', gerr);
    };
    // a translator that throws on a frame ends this stream, never the process
    const guarded = (fn: () => void): void => {
      try {
        fn();
      } catch (e) {
        body.destroy();
        abort();
        fail(e instanceof GatewayError ? e : new GatewayError('upstream_error', `Provider '${providerName}' sent a stream the gateway could not read.`, { cause: e }));
      }
    };

    body.read({
      data(chunk) {
        if (settled) return;
        guarded(() => {
          const frames = framer.push(chunk);
          if (frames.length === 1) return write(relay.frame(frames[0]!));
          // frames that arrived in one read leave in one write: nothing is held back, one syscall
          const outs: Buffer[] = [];
          for (const frame of frames) {
            const out = relay.frame(frame);
            if (out !== null && out.length > 0) outs.push(typeof out === 'string' ? Buffer.from(out) : out);
          }
          write(outs.length === 1 ? outs[0]! : outs.length === 0 ? null : Buffer.concat(outs));
        });
      },
      end() {
        if (settled) return;
        guarded(() => {
          const rest = framer.rest();
          if (rest) write(relay.frame(Buffer.concat([rest, Buffer.from('\n\n')])));
          write(relay.end());
          res.end();
          finish('completed', null);
        });
      },
      error(err) {
        if (settled) return;
        // lw abandoned the call itself: the client went away (its close handler may not have run yet)
        if (isAbortError(err)) return finish('client_aborted', null);
        // after the headers, only a timeout keeps its own code; anything else is a stream that broke off
        const ge = classifyTransportError(err, providerName);
        fail(
          ge instanceof GatewayError && ge.code === 'upstream_timeout'
            ? ge
            : new GatewayError('upstream_error', `The stream from provider '${providerName}' broke off.`, { cause: err }),
        );
      },
    });
  });
}
