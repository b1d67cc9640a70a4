import type { ChatStore } from '../state/store';
import type { ConnectionState } from '../state/types';
import { emitWithAck } from './ack';
import type { AckOf, ClientEventName, ConnectErrorData, PayloadOf, ServerEvents } from './events';
import type { Listener, SocketFactory, SocketLike } from './socketLike';
import { catchUp, loadConversations, loadInitial, loadOlder, refreshLoaded } from './sync';

export interface SocketServiceOptions {
  token: string;
  store: ChatStore;
  /** Builds the socket; injectable so tests can pass a fake. */
  createSocket: SocketFactory;
  ackTimeoutMs?: number;
  /** Called once when the server refuses the token (`unauthorized`) and renewing it did not help. */
  onUnauthorized?: (message: string) => void;
  /** The access token now (asked at every connect attempt); default: `token`. */
  currentToken?: () => string;
  /** Renews the access token after a refusal: the new token, or null when the session ended (then
   * `onUnauthorized`); rejects when the server cannot be reached (then it connects again later). */
  renew?: () => Promise<string | null>;
  /** Called after every (re)connect, once the catch-up is done. */
  onSynced?: () => void;
}

export const DEFAULT_ACK_TIMEOUT_MS = 10_000;
const MANUAL_RETRY_MIN_MS = 1000;
const MANUAL_RETRY_MAX_MS = 30_000;

/**
 * Owns the Socket.IO connection of a signed-in user: its lifecycle and connection state, typed
 * requests with acks, server events into the store, and the resync after every (re)connect.
 */
export class SocketService {
  private socket: SocketLike | null = null;
  private readonly opts: SocketServiceOptions;
  private readonly joined = new Set<string>();
  private readonly loading = new Set<string>();
  private everConnected = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryDelay = MANUAL_RETRY_MIN_MS;
  /** Bumped on each connect; a resync of an older connection stops early. */
  private generation = 0;
  private syncPromise: Promise<void> = Promise.resolve();
  /** A refusal was answered by renewing the token; a second refusal in a row signs out. */
  private renewedAfterRefusal = false;

  constructor(opts: SocketServiceOptions) {
    this.opts = opts;
  }

  get state(): ConnectionState {
    return this.opts.store.getState().connection;
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Resolves when the resync of the latest connect is done (for tests and callers). */
  whenSynced(): Promise<void> {
    return this.syncPromise;
  }

  start(): void {
    if (this.socket) return;
    this.stopped = false;
    const { token, currentToken } = this.opts;
    const socket = currentToken ? this.opts.createSocket(token, currentToken) : this.opts.createSocket(token);
    this.socket = socket;
    this.bind(socket);
    this.setState('connecting');
    socket.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearRetry();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.off();
      socket.disconnect();
    }
    this.setState('offline');
  }

  request<E extends ClientEventName>(event: E, payload: PayloadOf<E>, timeoutMs?: number): Promise<AckOf<E>> {
    const socket = this.socket;
    if (!socket) {
      return Promise.resolve({ ok: false, error: { code: 'offline', message: 'Not connected.' } });
    }
    return emitWithAck(socket, event, payload, timeoutMs ?? this.opts.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS);
  }

  /** Fire-and-forget emit for ephemeral events (typing); dropped while disconnected. */
  emitVolatile<E extends ClientEventName>(event: E, payload: PayloadOf<E>): void {
    if (this.socket?.connected) void this.request(event, payload);
  }

  /** Subscribes this socket to the conversation and loads (or catches up) its messages. */
  async openConversation(conversationId: string): Promise<void> {
    this.joined.add(conversationId);
    if (!this.connected) return; // the resync after connecting does it
    if (!(await this.join(conversationId))) return;
    await this.loadOrCatchUp(conversationId);
  }

  loadOlder(conversationId: string): Promise<void> {
    return loadOlder(this.requester, this.opts.store, conversationId);
  }

  private readonly requester = <E extends ClientEventName>(event: E, payload: PayloadOf<E>) =>
    this.request(event, payload);

  private setState(state: ConnectionState): void {
    this.opts.store.dispatch({ type: 'connectionState', state });
  }

  private async join(conversationId: string): Promise<boolean> {
    const ack = await this.request('join_conversation', { conversation_id: conversationId });
    if (ack.ok) {
      this.opts.store.dispatch({ type: 'conversationUpserted', conversation: ack.conversation });
      return true;
    }
    if (ack.error.code === 'not_found' || ack.error.code === 'not_a_member') {
      this.joined.delete(conversationId);
      this.opts.store.dispatch({ type: 'notice', notice: ack.error.message });
    }
    return false;
  }

  private async loadOrCatchUp(conversationId: string): Promise<void> {
    if (this.loading.has(conversationId)) return;
    this.loading.add(conversationId);
    try {
      const entry = this.opts.store.getState().messages[conversationId];
      if (entry?.loaded) {
        if (await catchUp(this.requester, this.opts.store, conversationId)) {
          await refreshLoaded(this.requester, this.opts.store, conversationId);
        }
      } else await loadInitial(this.requester, this.opts.store, conversationId);
    } finally {
      this.loading.delete(conversationId);
    }
  }

  /**
   * After every (re)connect: re-join the conversations this client follows, refresh the list,
   * then fetch what was missed in every conversation whose messages are loaded.
   */
  private async resync(generation: number): Promise<void> {
    const store = this.opts.store;
    const current = () => generation === this.generation && !this.stopped;
    await Promise.all([...this.joined].map((id) => this.join(id)));
    if (!current()) return;
    const complete = await loadConversations(this.requester, store);
    if (!current()) return;
    if (complete) store.dispatch({ type: 'listLoaded', loaded: true });
    const state = store.getState();
    const ids = new Set([...this.joined, ...Object.keys(state.messages).filter((id) => state.messages[id].loaded)]);
    await Promise.all([...ids].map((id) => this.loadOrCatchUp(id)));
    if (current()) this.opts.onSynced?.();
  }

  private bind(socket: SocketLike): void {
    const store = this.opts.store;
    const on = <K extends keyof ServerEvents>(event: K, handler: (payload: ServerEvents[K]) => void) =>
      socket.on(event, handler as Listener);

    socket.on('connect', () => {
      this.everConnected = true;
      this.renewedAfterRefusal = false;
      this.clearRetry();
      this.retryDelay = MANUAL_RETRY_MIN_MS;
      this.generation += 1;
      this.setState('online');
      store.dispatch({ type: 'notice', notice: null });
      this.syncPromise = this.resync(this.generation);
    });

    socket.on('disconnect', (reason: string) => {
      if (this.stopped) return;
      if (reason === 'io client disconnect') {
        this.setState('offline');
        return;
      }
      this.setState('reconnecting');
      // After a server-side disconnect socket.io-client does not reconnect by itself.
      if (reason === 'io server disconnect') this.scheduleManualConnect();
    });

    socket.on('connect_error', (err: Error & { data?: Partial<ConnectErrorData> }) => {
      if (this.stopped) return;
      const data = err?.data;
      if (data?.code === 'unauthorized') {
        const message = data.message ?? 'Your session has expired. Please sign in again.';
        if (this.opts.renew && !this.renewedAfterRefusal) {
          this.renewedAfterRefusal = true; // once: the token may just have expired
          this.setState(this.everConnected ? 'reconnecting' : 'connecting');
          this.opts.renew().then(
            (token) => {
              if (this.stopped || this.socket !== socket) return;
              if (token === null) this.refused(message);
              else socket.connect();
            },
            () => {
              this.renewedAfterRefusal = false;
              this.scheduleManualConnect();
            },
          );
          return;
        }
        this.refused(message);
        return;
      }
      this.setState(this.everConnected ? 'reconnecting' : 'connecting');
      if (data?.message) store.dispatch({ type: 'notice', notice: data.message });
      // A refusal by the server (not a network error) stops the built-in reconnection.
      if (socket.active === false) this.scheduleManualConnect();
    });

    on('message_new', (m) => store.dispatch({ type: 'messageReceived', message: m }));
    on('message_updated', (m) => store.dispatch({ type: 'messageUpdated', message: m }));
    on('reactions_updated', (r) =>
      store.dispatch({ type: 'reactionsUpdated', conversationId: r.conversation_id, messageId: r.message_id, reactions: r.reactions }),
    );
    on('conversation_updated', (c) => store.dispatch({ type: 'conversationUpserted', conversation: c }));
    on('messages_delivered', (r) =>
      store.dispatch({ type: 'receipt', kind: 'delivered', conversationId: r.conversation_id, userId: r.user_id, upToSeq: r.up_to_seq }),
    );
    on('messages_read', (r) =>
      store.dispatch({ type: 'receipt', kind: 'read', conversationId: r.conversation_id, userId: r.user_id, upToSeq: r.up_to_seq }),
    );
    on('typing', (t) =>
      store.dispatch({ type: 'typing', conversationId: t.conversation_id, userId: t.user_id, isTyping: t.is_typing }),
    );
    on('presence', (p) => store.dispatch({ type: 'presence', userId: p.user_id, status: p.status }));
    on('connection_updated', (c) => store.dispatch({ type: 'connectionUpserted', connection: c }));
  }

  private refused(message: string): void {
    this.stop();
    this.opts.store.dispatch({ type: 'notice', notice: message });
    this.opts.onUnauthorized?.(message);
  }

  private scheduleManualConnect(): void {
    if (this.retryTimer || this.stopped) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, MANUAL_RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped && this.socket && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
