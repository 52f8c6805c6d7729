/**
 * @module The upstream client's transport failures, before they are mapped to the error table
 * (`classifyTransportError` in `../upstream.ts`): what went wrong, and the socket's error code when
 * there is one. Messages name the failure, never a header, key or body.
 */

export type TransportFailure =
  /** no connection within `connectMs` */
  | 'connect_timeout'
  /** no response head within `firstByteMs` of sending the request */
  | 'headers_timeout'
  /** no body bytes for `idleMs` */
  | 'body_timeout'
  /** the connection failed or closed before the answer was complete (`code` says how, when known) */
  | 'socket'
  /** the upstream's bytes are not HTTP/1.1 */
  | 'protocol'
  /** the request itself cannot be sent (a header or path with line breaks) */
  | 'request'
  /** the client pool was closed */
  | 'closed';

export class UpstreamTransportError extends Error {
  override name = 'UpstreamTransportError';

  constructor(
    readonly failure: TransportFailure,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** lw abandoned the call itself (its client went away): not a failure of the upstream. */
export class UpstreamAbortError extends Error {
  override name = 'AbortError';

  constructor() {
    super('The upstream request was aborted.');
  }
}
