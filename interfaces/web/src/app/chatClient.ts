import { api as defaultApi, ApiError, type Api } from '../api/http';
import type { Connection, User } from '../api/types';
import type { StartConversation } from '../api/contract.gen';
import { createSocket as defaultCreateSocket } from '../socket/createSocket';
import { SocketService } from '../socket/socketService';
import type { SocketFactory } from '../socket/socketLike';
import { createChatStore, type ChatStore } from '../state/store';
import { newUuid } from '../util/uuid';
import { deliveredCandidate, readCandidate } from './receipts';

export const TYPING_THROTTLE_MS = 2000;

export interface ChatClientOptions {
  token: string;
  me: User;
  onUnauthorized: (message: string) => void;
  createSocket?: SocketFactory;
  api?: Api;
  isVisible?: () => boolean;
  ackTimeoutMs?: number;
}

/**
 * What the UI talks to once signed in: the store, the socket service and the HTTP calls, plus
 * the policies around them (read/delivered receipts, typing throttle, optimistic sends).
 */
export class ChatClient {
  readonly store: ChatStore;
  readonly socket: SocketService;
  private readonly opts: ChatClientOptions;
  private readonly api: Api;
  private readonly isVisible: () => boolean;
  private readonly requestedRead = new Map<string, number>();
  private readonly requestedDelivered = new Map<string, number>();
  private readonly typingSince = new Map<string, number>();
  private unsubscribe: (() => void) | null = null;

  constructor(opts: ChatClientOptions) {
    this.opts = opts;
    this.api = opts.api ?? defaultApi;
    this.isVisible = opts.isVisible ?? (() => document.visibilityState === 'visible');
    this.store = createChatStore(opts.me);
    this.socket = new SocketService({
      token: opts.token,
      store: this.store,
      createSocket: opts.createSocket ?? defaultCreateSocket,
      ackTimeoutMs: opts.ackTimeoutMs,
      onUnauthorized: opts.onUnauthorized,
      onSynced: () => {
        void this.loadConnections();
        this.evaluateReceipts();
      },
    });
  }

  get me(): User {
    return this.opts.me;
  }

  start(): void {
    this.unsubscribe = this.store.subscribe(() => this.evaluateReceipts());
    document.addEventListener('visibilitychange', this.onVisibility);
    this.socket.start();
    void this.loadConnections();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.socket.stop();
  }

  private readonly onVisibility = () => this.evaluateReceipts();

  // ---- conversations and messages ----

  openConversation(conversationId: string | null): void {
    const previous = this.store.getState().activeConversationId;
    if (previous && previous !== conversationId) this.stopTyping(previous);
    this.store.dispatch({ type: 'activeConversation', conversationId });
    if (conversationId) void this.socket.openConversation(conversationId);
  }

  loadOlder(conversationId: string): Promise<void> {
    return this.socket.loadOlder(conversationId);
  }

  async sendMessage(conversationId: string, body: string): Promise<void> {
    if (body.trim() === '') return;
    const clientMessageId = newUuid();
    this.store.dispatch({
      type: 'outgoingQueued',
      message: {
        client_message_id: clientMessageId,
        conversation_id: conversationId,
        sender_id: this.me.id,
        body,
        created_at: new Date().toISOString(),
        state: 'sending',
        error: null,
      },
    });
    this.stopTyping(conversationId);
    await this.deliver(conversationId, clientMessageId, body);
  }

  /** Sends a failed message again with the same client_message_id, so it is never duplicated. */
  async retry(conversationId: string, clientMessageId: string): Promise<void> {
    const outgoing = this.store.getState().outbox[conversationId]?.find((o) => o.client_message_id === clientMessageId);
    if (!outgoing || outgoing.state !== 'failed') return;
    this.store.dispatch({ type: 'outgoingRetried', conversationId, clientMessageId });
    await this.deliver(conversationId, clientMessageId, outgoing.body);
  }

  private async deliver(conversationId: string, clientMessageId: string, body: string): Promise<void> {
    const ack = await this.socket.request('send_message', {
      conversation_id: conversationId,
      client_message_id: clientMessageId,
      body,
    });
    if (ack.ok) {
      this.store.dispatch({ type: 'messageReceived', message: ack.message });
    } else {
      this.store.dispatch({ type: 'outgoingFailed', conversationId, clientMessageId, error: ack.error.message });
    }
  }

  /** Call on every edit of the message field: typing_start at most every 2 s, typing_stop when emptied. */
  typing(conversationId: string, text: string): void {
    if (text.trim() === '') {
      this.stopTyping(conversationId);
      return;
    }
    const now = Date.now();
    const since = this.typingSince.get(conversationId);
    if (since !== undefined && now - since < TYPING_THROTTLE_MS) return;
    this.typingSince.set(conversationId, now);
    this.socket.emitVolatile('typing_start', { conversation_id: conversationId });
  }

  stopTyping(conversationId: string): void {
    if (!this.typingSince.has(conversationId)) return;
    this.typingSince.delete(conversationId);
    this.socket.emitVolatile('typing_stop', { conversation_id: conversationId });
  }

  /** Opens (or creates) a direct or group conversation with at least one other user; resolves with its id. */
  async startConversation(userIds: StartConversation['user_ids'], title?: string): Promise<string> {
    const ack = await this.socket.request(
      'start_conversation',
      title ? { user_ids: userIds, title } : { user_ids: userIds },
    );
    if (!ack.ok) throw new Error(ack.error.message);
    this.store.dispatch({ type: 'conversationUpserted', conversation: ack.conversation });
    return ack.conversation.id;
  }

  // ---- receipts ----

  /** Marks the open conversation read (when visible) and everything that arrived delivered. */
  evaluateReceipts(): void {
    const state = this.store.getState();
    if (state.connection !== 'online') return;
    const meId = this.me.id;
    const active = state.activeConversationId;
    if (active && this.isVisible()) {
      const seq = readCandidate(state, active, meId);
      if (seq !== null && seq > (this.requestedRead.get(active) ?? 0)) {
        this.requestedRead.set(active, seq);
        this.requestedDelivered.set(active, Math.max(seq, this.requestedDelivered.get(active) ?? 0));
        void this.socket.request('mark_as_read', { conversation_id: active, up_to_seq: seq }).then((ack) => {
          if (ack.ok) this.store.dispatch({ type: 'unreadSet', conversationId: active, unread: ack.unread_count });
          else if (this.requestedRead.get(active) === seq) this.requestedRead.delete(active);
        });
      }
    }
    for (const id of Object.keys(state.conversations)) {
      const seq = deliveredCandidate(state, id, meId);
      if (seq === null || seq <= (this.requestedDelivered.get(id) ?? 0)) continue;
      this.requestedDelivered.set(id, seq);
      void this.socket.request('mark_as_delivered', { conversation_id: id, up_to_seq: seq }).then((ack) => {
        if (!ack.ok && this.requestedDelivered.get(id) === seq) this.requestedDelivered.delete(id);
      });
    }
  }

  // ---- connections (HTTP) ----

  private async http<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.opts.onUnauthorized(err.message);
      throw err;
    }
  }

  async loadConnections(): Promise<void> {
    try {
      const { connections } = await this.http(() => this.api.listConnections(this.opts.token));
      this.store.dispatch({ type: 'connectionsLoaded', connections });
    } catch (err) {
      if (err instanceof Error) this.store.dispatch({ type: 'notice', notice: err.message });
    }
  }

  private upsert(connection: Connection): Connection {
    this.store.dispatch({ type: 'connectionUpserted', connection });
    return connection;
  }

  async requestConnection(username: string): Promise<Connection> {
    const { connection } = await this.http(() => this.api.requestConnection(this.opts.token, username));
    return this.upsert(connection);
  }

  async acceptConnection(id: string): Promise<Connection> {
    const { connection } = await this.http(() => this.api.acceptConnection(this.opts.token, id));
    return this.upsert(connection);
  }

  async declineConnection(id: string): Promise<Connection> {
    const { connection } = await this.http(() => this.api.declineConnection(this.opts.token, id));
    return this.upsert(connection);
  }

  async searchUsers(query: string): Promise<User[]> {
    if (query.trim() === '') return [];
    const { users } = await this.http(() => this.api.searchUsers(this.opts.token, query.trim()));
    return users;
  }
}
