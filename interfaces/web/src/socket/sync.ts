import { lastContiguousSeq } from '../state/messages';
import type { ChatStore } from '../state/store';
import type { AckOf, ClientEventName, PayloadOf } from './events';

export type Requester = <E extends ClientEventName>(event: E, payload: PayloadOf<E>) => Promise<AckOf<E>>;

export const PAGE_SIZE = 50;
export const CATCH_UP_PAGE_SIZE = 100;
const MAX_PAGES = 100;

/** Loads the newest page of a conversation (and fills any gap left by live messages meanwhile). */
export async function loadInitial(request: Requester, store: ChatStore, conversationId: string): Promise<boolean> {
  const ack = await request('get_messages', { conversation_id: conversationId, limit: PAGE_SIZE });
  if (!ack.ok) {
    store.dispatch({ type: 'notice', notice: ack.error.message });
    return false;
  }
  store.dispatch({
    type: 'messagesLoaded',
    conversationId,
    messages: ack.messages,
    mode: 'initial',
    hasMore: ack.has_more,
  });
  const items = store.getState().messages[conversationId]?.items ?? [];
  if (items.length > 0 && lastContiguousSeq(items) < items[items.length - 1].seq) {
    await catchUp(request, store, conversationId);
  }
  return true;
}

/** Asks for every message after the last one seen, page by page, until `has_more` is false. */
export async function catchUp(request: Requester, store: ChatStore, conversationId: string): Promise<boolean> {
  let after = lastContiguousSeq(store.getState().messages[conversationId]?.items ?? []);
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const ack = await request('get_messages', {
      conversation_id: conversationId,
      after_seq: after,
      limit: CATCH_UP_PAGE_SIZE,
    });
    if (!ack.ok) return false;
    store.dispatch({ type: 'messagesLoaded', conversationId, messages: ack.messages, mode: 'newer', hasMore: ack.has_more });
    if (!ack.has_more || ack.messages.length === 0) return true;
    const last = ack.messages[ack.messages.length - 1].seq;
    if (last <= after) return true; // no progress: do not loop forever
    after = last;
  }
  return true;
}

/** The most loaded messages that a reconnect fetches again, to show what changed meanwhile. */
export const REFRESH_LIMIT = 200;

/**
 * Fetches the newest loaded messages again (up to REFRESH_LIMIT): edits, deletions and reactions
 * made while this client was away replace the copies it holds.
 */
export async function refreshLoaded(request: Requester, store: ChatStore, conversationId: string): Promise<boolean> {
  const items = store.getState().messages[conversationId]?.items ?? [];
  if (items.length === 0) return true;
  const ack = await request('get_messages', {
    conversation_id: conversationId,
    before_seq: items[items.length - 1].seq + 1,
    limit: Math.min(items.length, REFRESH_LIMIT),
  });
  if (!ack.ok) return false;
  store.dispatch({ type: 'messagesLoaded', conversationId, messages: ack.messages, mode: 'newer', hasMore: ack.has_more });
  return true;
}

/** Loads the page before the oldest loaded message. */
export async function loadOlder(request: Requester, store: ChatStore, conversationId: string): Promise<void> {
  const entry = store.getState().messages[conversationId];
  if (!entry || !entry.loaded || !entry.hasMoreBefore || entry.loadingOlder || entry.items.length === 0) return;
  store.dispatch({ type: 'olderLoading', conversationId, loading: true });
  const ack = await request('get_messages', {
    conversation_id: conversationId,
    before_seq: entry.items[0].seq,
    limit: PAGE_SIZE,
  });
  if (!ack.ok) {
    store.dispatch({ type: 'olderLoading', conversationId, loading: false });
    store.dispatch({ type: 'notice', notice: ack.error.message });
    return;
  }
  store.dispatch({ type: 'messagesLoaded', conversationId, messages: ack.messages, mode: 'older', hasMore: ack.has_more });
}

/** Fetches every page of the conversation list into the store. */
export async function loadConversations(request: Requester, store: ChatStore): Promise<boolean> {
  let before: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const ack = await request('get_conversations', before ? { limit: 100, before } : { limit: 100 });
    if (!ack.ok) return false;
    store.dispatch({ type: 'conversationsLoaded', conversations: ack.conversations });
    if (!ack.next_cursor || ack.conversations.length === 0) return true;
    before = ack.next_cursor;
  }
  return true;
}
