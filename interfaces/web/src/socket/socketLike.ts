/**
 * The small part of a socket.io-client `Socket` that the service uses.
 * Tests inject a fake implementing this interface.
 */
// any, not unknown: a listener declares the payload type of its event (as socket.io-client's own
// listener type does); with unknown[] no typed handler would be assignable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type Listener = (...args: any[]) => void;

export interface SocketLike {
  readonly connected: boolean;
  /** true while socket.io-client will keep reconnecting by itself. */
  readonly active?: boolean;
  on(event: string, listener: Listener): unknown;
  off(event?: string, listener?: Listener): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  /**
   * socket.io-client's `timeout(ms).emit(event, payload, (err, ack) => ...)`: on timeout the ack
   * callback gets an error and the packet is dropped from the send buffer, so a send reported as
   * failed is never delivered later behind the user's back (only Retry sends it again).
   */
  timeout(ms: number): { emit(event: string, ...args: unknown[]): unknown };
  connect(): unknown;
  disconnect(): unknown;
}

/** `token`: the access token now; `currentToken`, when given, is asked again at every (re)connect. */
export type SocketFactory = (token: string, currentToken?: () => string) => SocketLike;
