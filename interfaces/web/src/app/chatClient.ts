import { api as defaultApi, isTokenRefused, type Api } from '../api/http';
import { uploadFile } from '../api/upload';
import type { Attachment, Connection, ConversationSummary, Message, Quote, SearchResult, User } from '../api/types';
import type { AddMembers, MessageVersion, SendMessage, StartConversation } from '../api/contract.gen';
import type { ClientEventName, PayloadOf } from '../socket/events';
import { MUTE_FOREVER } from '../state/groups';
import { createSocket as defaultCreateSocket } from '../socket/createSocket';
import { SocketService } from '../socket/socketService';
import type { SocketFactory } from '../socket/socketLike';
import { hasReacted, withPending } from '../state/lifecycle';
import { createChatStore, type ChatStore } from '../state/store';
import { SEARCH_PAGE } from '../state/search';
import type { PendingChange } from '../state/types';
import { draftUpload, MAX_ATTACHMENTS, readyAttachments, uploadsBusy } from '../state/uploads';
import { newUuid } from '../util/uuid';
import { deliveredCandidate, readCandidate } from './receipts';

export const TYPING_THROTTLE_MS = 2000;
/** A message is fetched again for fresh attachment URLs at most this often. */
export const REFRESH_MESSAGE_MS = 60_000;
/** What the signed-out screen says after the user deleted their account. */
export const ACCOUNT_DELETED = 'Your account was deleted.';

/** Where the access token comes from: the session keeper (renewing it), or one fixed token. */
export interface TokenSource {
  readonly token: string;
  renew(): Promise<string | null>;
  withToken<T>(call: (token: string) => Promise<T>): Promise<T>;
  /** Forgets the session here and signs out (it ended on the server). */
  end(message?: string): void;
  /** Erases the account with `call`, then signs out with `message`; sign-outs meanwhile wait for it. */
  erase(call: (token: string) => Promise<unknown>, message: string): Promise<void>;
}

export interface ChatClientOptions {
  token: string;
  me: User;
  onUnauthorized: (message: string) => void;
  /** Renews the token before it expires and after a refusal (src/app/sessionKeeper.ts). */
  tokens?: TokenSource;
  createSocket?: SocketFactory;
  api?: Api;
  isVisible?: () => boolean;
  ackTimeoutMs?: number;
  /** `POST /api/uploads`; injectable so tests can pass a fake. */
  upload?: typeof uploadFile;
}

/** A file to upload, with the name it goes under. */
export interface PickedFile {
  file: Blob;
  name: string;
}

/** `attachment_ids` (the schema's `maxItems: 10` makes it a union of tuples: the store keeps at most 10). */
function attachmentIds(attachments: readonly Attachment[]): NonNullable<SendMessage['attachment_ids']> {
  return attachments.slice(0, MAX_ATTACHMENTS).map((a) => a.id) as NonNullable<SendMessage['attachment_ids']>;
}

/** A page of search results, or why there is none. */
export type SearchOutcome = { ok: true; results: SearchResult[]; nextCursor: string | null } | { ok: false; error: string };

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
  private readonly uploading = new Map<string, AbortController>();
  private readonly refreshedAt = new Map<string, number>();
  private readonly upload: typeof uploadFile;
  private unsubscribe: (() => void) | null = null;
  private readonly tokens: TokenSource | null;

  constructor(opts: ChatClientOptions) {
    this.opts = opts;
    this.tokens = opts.tokens ?? null;
    const tokens = this.tokens;
    this.api = opts.api ?? defaultApi;
    this.upload = opts.upload ?? uploadFile;
    this.isVisible = opts.isVisible ?? (() => document.visibilityState === 'visible');
    this.store = createChatStore(opts.me);
    this.socket = new SocketService({
      token: opts.token,
      store: this.store,
      createSocket: opts.createSocket ?? defaultCreateSocket,
      ackTimeoutMs: opts.ackTimeoutMs,
      onUnauthorized: (message) => this.signedOut(message),
      ...(tokens ? { currentToken: () => tokens.token, renew: () => tokens.renew() } : {}),
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
    void this.loadUnread();
    // needed on the Settings page only, which loads it again (and shows a failure there)
    this.loadBlocked().catch(() => undefined);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.socket.stop();
    for (const controller of this.uploading.values()) controller.abort();
    this.uploading.clear();
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

  /**
   * Sends `body` with the files uploaded for this conversation's next message, as a reply to
   * `replyTo` when given (its quote and the files are shown until the ack). Nothing goes while a
   * file is still uploading, nor without text or a file.
   */
  async sendMessage(conversationId: string, body: string, replyTo: Quote | null = null): Promise<void> {
    const draft = this.store.getState().uploads[conversationId];
    if (uploadsBusy(draft)) return;
    const attachments = readyAttachments(draft);
    if (body.trim() === '' && attachments.length === 0) return;
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
        reply_to: replyTo,
        attachments,
      },
    });
    if (attachments.length > 0) {
      this.store.dispatch({ type: 'uploadsSent', conversationId, attachmentIds: attachments.map((a) => a.id) });
    }
    this.stopTyping(conversationId);
    await this.deliver(conversationId, clientMessageId, body, replyTo, attachments);
  }

  /** Sends a failed message again with the same client_message_id, so it is never duplicated. */
  async retry(conversationId: string, clientMessageId: string): Promise<void> {
    const outgoing = this.store.getState().outbox[conversationId]?.find((o) => o.client_message_id === clientMessageId);
    if (!outgoing || outgoing.state !== 'failed') return;
    this.store.dispatch({ type: 'outgoingRetried', conversationId, clientMessageId });
    await this.deliver(conversationId, clientMessageId, outgoing.body, outgoing.reply_to ?? null, outgoing.attachments ?? []);
  }

  private async deliver(
    conversationId: string,
    clientMessageId: string,
    body: string,
    replyTo: Quote | null,
    attachments: readonly Attachment[],
  ): Promise<void> {
    const ack = await this.socket.request('send_message', {
      conversation_id: conversationId,
      client_message_id: clientMessageId,
      body,
      ...(replyTo ? { reply_to: replyTo.id } : {}),
      ...(attachments.length > 0 ? { attachment_ids: attachmentIds(attachments) } : {}),
    });
    if (ack.ok) {
      this.store.dispatch({ type: 'messageReceived', message: ack.message });
    } else {
      this.store.dispatch({ type: 'outgoingFailed', conversationId, clientMessageId, error: ack.error.message });
    }
  }

  // ---- attachments: files picked, dropped or pasted upload at once, and go with the next message ----

  /** Uploads `files` for the next message of the conversation (at most 10 per message). */
  attachFiles(conversationId: string, files: readonly PickedFile[]): Promise<void> {
    const drafts = files.map((f) => ({ ...f, draft: draftUpload(newUuid(), f.name, f.file.size) }));
    this.store.dispatch({ type: 'uploadsAdded', conversationId, uploads: drafts.map((d) => d.draft) });
    const kept = new Set((this.store.getState().uploads[conversationId] ?? []).map((u) => u.localId));
    return Promise.all(
      drafts.filter((d) => kept.has(d.draft.localId)).map((d) => this.uploadOne(conversationId, d.draft.localId, d.file, d.name)),
    ).then(() => undefined);
  }

  private async uploadOne(conversationId: string, localId: string, file: Blob, name: string): Promise<void> {
    const controller = new AbortController();
    this.uploading.set(localId, controller);
    try {
      const attachment = await this.upload({
        token: this.tokens?.token ?? this.opts.token,
        file,
        filename: name,
        signal: controller.signal,
        onProgress: (loaded) => this.store.dispatch({ type: 'uploadProgress', conversationId, localId, loaded }),
      });
      this.store.dispatch({ type: 'uploadDone', conversationId, localId, attachment });
    } catch (err) {
      if (controller.signal.aborted) return; // removed by the user: nothing to report
      if (isTokenRefused(err)) this.signedOut(err.message);
      const reason = err instanceof Error ? err.message : 'The upload failed.';
      this.store.dispatch({ type: 'uploadFailed', conversationId, localId, error: reason });
    } finally {
      this.uploading.delete(localId);
    }
  }

  /** Takes a file off the next message (stopping its upload if still running). */
  removeUpload(conversationId: string, localId: string): void {
    this.uploading.get(localId)?.abort();
    this.uploading.delete(localId);
    this.store.dispatch({ type: 'uploadRemoved', conversationId, localId });
  }

  /**
   * Fetches a stored message again, for fresh signed attachment URLs (they expire an hour after the
   * copy was made): called when an image fails to load. At most once a minute per message, so bytes
   * that are gone for good (404) cause no loop.
   */
  async refreshMessage(conversationId: string, messageId: string): Promise<void> {
    const now = Date.now();
    const last = this.refreshedAt.get(messageId);
    if (last !== undefined && now - last < REFRESH_MESSAGE_MS) return;
    this.refreshedAt.set(messageId, now);
    const stored = this.store.getState().messages[conversationId]?.items.find((m) => m.id === messageId);
    if (!stored) return;
    const ack = await this.socket.request('get_messages', { conversation_id: conversationId, after_seq: stored.seq - 1, limit: 1 });
    if (!ack.ok) return;
    const fresh = ack.messages.filter((m) => m.id === messageId);
    if (fresh.length > 0) {
      this.store.dispatch({ type: 'messagesLoaded', conversationId, messages: fresh, mode: 'newer', hasMore: false });
    }
  }

  // ---- search ----

  /** One page of messages matching `query` (newest first), across conversations or in one. */
  async searchMessages(query: string, before: string | null = null, conversationId: string | null = null): Promise<SearchOutcome> {
    const ack = await this.socket.request('search_messages', {
      query,
      limit: SEARCH_PAGE,
      ...(before ? { before } : {}),
      ...(conversationId ? { conversation_id: conversationId } : {}),
    });
    return ack.ok ? { ok: true, results: ack.results, nextCursor: ack.next_cursor } : { ok: false, error: ack.error.message };
  }

  /** Opens the conversation of `message` and brings it into view (loading older pages as needed). */
  showMessage(message: Pick<Message, 'conversation_id' | 'id' | 'seq'>): void {
    this.store.dispatch({
      type: 'jumpRequested',
      target: { conversationId: message.conversation_id, messageId: message.id, seq: message.seq },
    });
  }

  // ---- a sent message's life: edit, delete, react (optimistic, rolled back when refused) ----

  /** The stored message as the user sees it now (with their unacknowledged changes), if loaded. */
  private shownMessage(conversationId: string, messageId: string): Message | null {
    const state = this.store.getState();
    const stored = state.messages[conversationId]?.items.find((m) => m.id === messageId);
    return stored ? withPending(stored, state.pending[messageId], this.me.id) : null;
  }

  /** Shows `change` at once; the ack's result replaces it, a refusal (or no ack) takes it back. */
  private async change<T>(
    conversationId: string,
    messageId: string,
    change: PendingChange,
    send: () => Promise<{ ok: true; result: T } | { ok: false; message: string }>,
    accepted: (result: T) => { message?: Message; reactions?: Message['reactions'] },
  ): Promise<boolean> {
    this.store.dispatch({ type: 'changeStarted', messageId, change });
    const outcome = await send();
    if (outcome.ok) {
      this.store.dispatch({ type: 'changeAccepted', conversationId, messageId, changeId: change.id, ...accepted(outcome.result) });
      return true;
    }
    this.store.dispatch({ type: 'changeRefused', messageId, changeId: change.id, error: outcome.message });
    return false;
  }

  /** Replaces the text of one of the user's messages; resolves false when the server refused it. */
  async editMessage(conversationId: string, messageId: string, body: string): Promise<boolean> {
    const shown = this.shownMessage(conversationId, messageId);
    if (!shown || shown.deleted || body.trim() === '' || body.trim() === shown.body.trim()) return false;
    const change: PendingChange = { id: newUuid(), kind: 'edit', body: body.trim(), at: new Date().toISOString() };
    return this.change(
      conversationId,
      messageId,
      change,
      async () => {
        const ack = await this.socket.request('edit_message', { conversation_id: conversationId, message_id: messageId, body });
        return ack.ok ? { ok: true, result: ack.message } : { ok: false, message: ack.error.message };
      },
      (message) => ({ message }),
    );
  }

  /** Deletes a message for everyone (the user's own, or any as a group's owner or admin). */
  async deleteMessage(conversationId: string, messageId: string): Promise<boolean> {
    const shown = this.shownMessage(conversationId, messageId);
    if (!shown || shown.deleted) return false;
    return this.change(
      conversationId,
      messageId,
      { id: newUuid(), kind: 'delete' },
      async () => {
        const ack = await this.socket.request('delete_message', { conversation_id: conversationId, message_id: messageId });
        return ack.ok ? { ok: true, result: ack.message } : { ok: false, message: ack.error.message };
      },
      (message) => ({ message }),
    );
  }

  /** Adds the user's `emoji` reaction, or takes it back when they already reacted with it. */
  async toggleReaction(conversationId: string, messageId: string, emoji: string): Promise<boolean> {
    const shown = this.shownMessage(conversationId, messageId);
    if (!shown || shown.deleted) return false;
    const add = !hasReacted(shown, emoji, this.me.id);
    return this.change(
      conversationId,
      messageId,
      { id: newUuid(), kind: 'react', emoji, add },
      async () => {
        const ack = await this.socket.request('react', { conversation_id: conversationId, message_id: messageId, emoji, add });
        return ack.ok ? { ok: true, result: ack.reactions } : { ok: false, message: ack.error.message };
      },
      (reactions) => ({ reactions }),
    );
  }

  /** Every version of a message's text, the original first; throws with the server's reason. */
  async messageEdits(conversationId: string, messageId: string): Promise<MessageVersion[]> {
    const ack = await this.socket.request('get_message_edits', { conversation_id: conversationId, message_id: messageId });
    if (!ack.ok) throw new Error(ack.error.message);
    return ack.versions;
  }

  /** Loads older pages until the message `seq` is loaded (to show the original of a reply). */
  async loadThrough(conversationId: string, seq: number): Promise<boolean> {
    for (;;) {
      const entry = this.store.getState().messages[conversationId];
      if (!entry?.loaded) return false;
      if (entry.items.length > 0 && entry.items[0].seq <= seq) return true;
      if (!entry.hasMoreBefore) return false;
      const before = entry.items[0]?.seq;
      await this.socket.loadOlder(conversationId);
      const after = this.store.getState().messages[conversationId];
      if (!after || after.items[0]?.seq === before) return false; // no progress (refused or offline)
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

  // ---- groups (contract section 7) and mutes (section 8): each resolves with the new summary ----

  /** Sends a change of a conversation; the summary in its ack replaces the stored one. Throws the refusal. */
  private async changeConversation<
    E extends 'add_members' | 'remove_member' | 'leave_group' | 'rename_conversation' | 'set_member_role' | 'mute_conversation',
  >(event: E & ClientEventName, payload: PayloadOf<E>): Promise<ConversationSummary> {
    const ack = await this.socket.request(event, payload);
    if (!ack.ok) throw new Error(ack.error.message);
    this.store.dispatch({ type: 'conversationUpserted', conversation: ack.conversation });
    return ack.conversation;
  }

  addMembers(conversationId: string, userIds: AddMembers['user_ids']): Promise<ConversationSummary> {
    return this.changeConversation('add_members', { conversation_id: conversationId, user_ids: userIds });
  }

  removeMember(conversationId: string, userId: string): Promise<ConversationSummary> {
    return this.changeConversation('remove_member', { conversation_id: conversationId, user_id: userId });
  }

  leaveGroup(conversationId: string): Promise<ConversationSummary> {
    return this.changeConversation('leave_group', { conversation_id: conversationId });
  }

  renameConversation(conversationId: string, title: string): Promise<ConversationSummary> {
    return this.changeConversation('rename_conversation', { conversation_id: conversationId, title });
  }

  setMemberRole(conversationId: string, userId: string, role: 'admin' | 'member'): Promise<ConversationSummary> {
    return this.changeConversation('set_member_role', { conversation_id: conversationId, user_id: userId, role });
  }

  /** `Mute` mutes without end, `Unmute` (muted false) ends it. */
  setMuted(conversationId: string, muted: boolean): Promise<ConversationSummary> {
    return this.changeConversation('mute_conversation', {
      conversation_id: conversationId,
      until: muted ? MUTE_FOREVER : null,
    });
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

  /** An HTTP call with the current token; after a refusal of the token it is renewed once and the call
   * made again. A token still refused signs out; a wrong password (`invalid_credentials`) does not. */
  private async http<T>(call: (token: string) => Promise<T>): Promise<T> {
    try {
      return this.tokens ? await this.tokens.withToken(call) : await call(this.opts.token);
    } catch (err) {
      if (isTokenRefused(err)) this.signedOut(err.message);
      throw err;
    }
  }

  /** The server refused the session: signed out (through the session keeper, which forgets it). */
  private signedOut(message: string): void {
    if (this.tokens) this.tokens.end(message);
    else this.opts.onUnauthorized(message);
  }

  // ---- the account (contract section 11) ----

  /**
   * Erases the user's account (`DELETE /api/users/me` with their password), then signs out here with
   * ACCOUNT_DELETED, the socket stopped first and the stored session cleared (every tab signs out).
   * The server disconnects the sockets before it answers: the one reconnect that is refused meanwhile
   * stops the socket, and its sign-out waits for the answer (SessionKeeper.erase). Rejects with the
   * server's refusal (a wrong password: `invalid_credentials`), and the user stays signed in.
   */
  async deleteAccount(password: string): Promise<void> {
    const erase = async (token: string) => {
      await this.api.deleteAccount(token, password);
      this.stop();
    };
    if (this.tokens) {
      await this.tokens.erase(erase, ACCOUNT_DELETED);
      return;
    }
    await this.http(erase);
    this.opts.onUnauthorized(ACCOUNT_DELETED);
  }

  async loadConnections(): Promise<void> {
    try {
      const { connections } = await this.http((token) => this.api.listConnections(token));
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
    const { connection } = await this.http((token) => this.api.requestConnection(token, username));
    return this.upsert(connection);
  }

  async acceptConnection(id: string): Promise<Connection> {
    const { connection } = await this.http((token) => this.api.acceptConnection(token, id));
    return this.upsert(connection);
  }

  async declineConnection(id: string): Promise<Connection> {
    const { connection } = await this.http((token) => this.api.declineConnection(token, id));
    return this.upsert(connection);
  }

  /** The total unread of the page title until the conversation list is loaded (`GET /api/unread`). */
  async loadUnread(): Promise<void> {
    try {
      const { unread_count } = await this.http((token) => this.api.unread(token));
      this.store.dispatch({ type: 'unreadLoaded', unread: unread_count });
    } catch {
      // the total is then taken from the conversation list alone
    }
  }

  /** The users this user blocked (`GET /api/blocks`); throws when they cannot be loaded. */
  async loadBlocked(): Promise<void> {
    const { blocked } = await this.http((token) => this.api.listBlocked(token));
    this.store.dispatch({ type: 'blockedLoaded', blocked });
  }

  /** Blocks a user: the server removes any connection between the two (`connection_updated`). */
  async block(userId: string): Promise<User[]> {
    const { blocked } = await this.http((token) => this.api.block(token, userId));
    this.store.dispatch({ type: 'blockedLoaded', blocked });
    void this.loadConnections();
    return blocked;
  }

  async unblock(userId: string): Promise<User[]> {
    const { blocked } = await this.http((token) => this.api.unblock(token, userId));
    this.store.dispatch({ type: 'blockedLoaded', blocked });
    return blocked;
  }

  async searchUsers(query: string): Promise<User[]> {
    if (query.trim() === '') return [];
    const { users } = await this.http((token) => this.api.searchUsers(token, query.trim()));
    return users;
  }
}
