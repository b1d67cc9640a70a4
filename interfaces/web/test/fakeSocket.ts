import type { AckOf, ClientEventName, PayloadOf } from '../src/socket/events';
import type { Listener, SocketLike } from '../src/socket/socketLike';

/** Per client event, the ack its server would send (typed by the contract); undefined: no ack. */
type Responders = { [E in ClientEventName]?: (payload: PayloadOf<E>) => AckOf<E> | undefined };

/**
 * A stand-in for a socket.io-client Socket. Acks come from `responders` (per event name) on a
 * microtask; a responder returning undefined never acks (to test timeouts).
 */
export class FakeSocket implements SocketLike {
  connected = false;
  active = true;
  connectCalls = 0;
  disconnectCalls = 0;
  readonly emitted: { event: string; payload: unknown }[] = [];
  readonly responders: Responders = {};
  private readonly handlers = new Map<string, Set<Listener>>();

  on(event: string, listener: Listener): this {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(listener);
    return this;
  }

  off(event?: string, listener?: Listener): this {
    if (event === undefined) this.handlers.clear();
    else if (listener === undefined) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(listener);
    return this;
  }

  emit(event: string, ...args: unknown[]): this {
    const [payload, ack] = args;
    this.emitted.push({ event, payload });
    const respond = this.responders[event as ClientEventName] as ((payload: unknown) => unknown) | undefined;
    if (respond && typeof ack === 'function') {
      const result = respond(payload);
      if (result !== undefined) void Promise.resolve().then(() => (ack as Listener)(result));
    }
    return this;
  }

  /** Like socket.io-client: the ack gets (err, ack); err when no ack came within `ms`. */
  timeout(ms: number): { emit(event: string, ...args: unknown[]): unknown } {
    return {
      emit: (event: string, ...args: unknown[]) => {
        const [payload, callback] = args as [unknown, (err: unknown, ack?: unknown) => void];
        let settled = false;
        const timer = setTimeout(() => {
          if (!settled) {
            settled = true;
            callback(new Error('operation has timed out'));
          }
        }, ms);
        return this.emit(event, payload, (ack: unknown) => {
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            callback(null, ack);
          }
        });
      },
    };
  }

  connect(): this {
    this.connectCalls += 1;
    return this;
  }

  disconnect(): this {
    this.disconnectCalls += 1;
    const was = this.connected;
    this.connected = false;
    this.active = false;
    if (was) this.fire('disconnect', 'io client disconnect');
    return this;
  }

  /** Runs the listeners of a socket (or server) event. */
  fire(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.handlers.get(event) ?? [])]) listener(...args);
  }

  serverAccepts(): void {
    this.connected = true;
    this.active = true;
    this.fire('connect');
  }

  networkDrops(): void {
    this.connected = false;
    this.fire('disconnect', 'transport close');
  }

  /** The payloads emitted for a client event, as the client typed them. */
  sent<E extends ClientEventName>(event: E): PayloadOf<E>[] {
    return this.emitted.filter((e) => e.event === event).map((e) => e.payload as PayloadOf<E>);
  }
}
