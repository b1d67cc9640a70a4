import { afterEach, describe, expect, it, vi } from 'vitest';
import { createChatStore } from '../src/state/store';
import { sortConversations, timeline } from '../src/state/selectors';
import type { ChatStore } from '../src/state/store';
import { member, message, summary, user } from './fixtures';

const me = user('alice');
const bob = user('bob');
const carol = user('carol');

function seqs(store: ChatStore, conversationId: string): number[] {
  return (store.getState().messages[conversationId]?.items ?? []).map((m) => m.seq);
}

function ownStates(store: ChatStore, conversationId: string): (string | null)[] {
  const s = store.getState();
  return timeline(s.messages[conversationId]?.items ?? [], s.outbox[conversationId], s.conversations[conversationId], me.id)
    .filter((i) => i.own)
    .map((i) => i.state);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('messages', () => {
  it('keeps messages sorted by seq and drops duplicates by id', () => {
    const store = createChatStore(me);
    const c = summary([member(me), member(bob)]);
    store.dispatch({ type: 'conversationUpserted', conversation: c });
    store.dispatch({
      type: 'messagesLoaded',
      conversationId: c.id,
      messages: [message(c.id, 3, bob), message(c.id, 1, bob), message(c.id, 2, me)],
      mode: 'initial',
      hasMore: false,
    });
    store.dispatch({ type: 'messageReceived', message: message(c.id, 5, bob) });
    store.dispatch({ type: 'messageReceived', message: message(c.id, 4, bob) });
    store.dispatch({ type: 'messageReceived', message: message(c.id, 2, me) }); // duplicate
    store.dispatch({
      type: 'messagesLoaded',
      conversationId: c.id,
      messages: [message(c.id, 4, bob), message(c.id, 5, bob)], // overlapping catch-up page
      mode: 'newer',
      hasMore: false,
    });

    expect(seqs(store, c.id)).toEqual([1, 2, 3, 4, 5]);
    expect(store.getState().conversations[c.id].last_message?.seq).toBe(5);
  });

  it('older pages go before the loaded ones and update hasMoreBefore', () => {
    const store = createChatStore(me);
    const c = summary([member(me), member(bob)]);
    store.dispatch({ type: 'messagesLoaded', conversationId: c.id, messages: [message(c.id, 51, bob)], mode: 'initial', hasMore: true });
    store.dispatch({ type: 'olderLoading', conversationId: c.id, loading: true });
    store.dispatch({ type: 'messagesLoaded', conversationId: c.id, messages: [message(c.id, 49, bob), message(c.id, 50, bob)], mode: 'older', hasMore: false });

    const entry = store.getState().messages[c.id];
    expect(entry.items.map((m) => m.seq)).toEqual([49, 50, 51]);
    expect(entry.hasMoreBefore).toBe(false);
    expect(entry.loadingOlder).toBe(false);
  });
});

describe('own message status', () => {
  it('goes Sending -> Sent -> Delivered -> Read from the ack and receipt events', () => {
    const store = createChatStore(me);
    const c = summary([member(me, 3, 3), member(bob, 3, 3)]);
    store.dispatch({ type: 'conversationUpserted', conversation: c });
    store.dispatch({ type: 'messagesLoaded', conversationId: c.id, messages: [], mode: 'initial', hasMore: false });

    store.dispatch({
      type: 'outgoingQueued',
      message: { client_message_id: 'cm-1', conversation_id: c.id, sender_id: me.id, body: 'hi', created_at: '2024-01-01T12:00:00Z', state: 'sending', error: null },
    });
    expect(ownStates(store, c.id)).toEqual(['Sending']);

    store.dispatch({ type: 'messageReceived', message: message(c.id, 4, me, { client_message_id: 'cm-1', body: 'hi' }) });
    expect(ownStates(store, c.id)).toEqual(['Sent']);
    expect(store.getState().outbox[c.id]).toEqual([]);

    store.dispatch({ type: 'receipt', kind: 'delivered', conversationId: c.id, userId: bob.id, upToSeq: 4 });
    expect(ownStates(store, c.id)).toEqual(['Delivered']);

    store.dispatch({ type: 'receipt', kind: 'read', conversationId: c.id, userId: bob.id, upToSeq: 4 });
    expect(ownStates(store, c.id)).toEqual(['Read']);
  });

  it('in a group is Read only once every other member read it', () => {
    const store = createChatStore(me);
    const c = summary([member(me), member(bob), member(carol)]);
    store.dispatch({ type: 'conversationUpserted', conversation: c });
    store.dispatch({ type: 'messagesLoaded', conversationId: c.id, messages: [message(c.id, 1, me)], mode: 'initial', hasMore: false });

    store.dispatch({ type: 'receipt', kind: 'read', conversationId: c.id, userId: bob.id, upToSeq: 1 });
    expect(ownStates(store, c.id)).toEqual(['Sent']);
    store.dispatch({ type: 'receipt', kind: 'delivered', conversationId: c.id, userId: carol.id, upToSeq: 1 });
    expect(ownStates(store, c.id)).toEqual(['Delivered']);
    store.dispatch({ type: 'receipt', kind: 'read', conversationId: c.id, userId: carol.id, upToSeq: 1 });
    expect(ownStates(store, c.id)).toEqual(['Read']);
  });

  it('does not let an older summary move receipt markers back', () => {
    const store = createChatStore(me);
    const c = summary([member(me), member(bob)]);
    store.dispatch({ type: 'conversationUpserted', conversation: c });
    store.dispatch({ type: 'messagesLoaded', conversationId: c.id, messages: [message(c.id, 1, me)], mode: 'initial', hasMore: false });
    store.dispatch({ type: 'receipt', kind: 'read', conversationId: c.id, userId: bob.id, upToSeq: 1 });
    store.dispatch({ type: 'conversationUpserted', conversation: c }); // stale markers (0)
    expect(ownStates(store, c.id)).toEqual(['Read']);
  });

  it('marks a failed send Failed, and a retry makes it Sending again with the same id', () => {
    const store = createChatStore(me);
    const c = summary([member(me), member(bob)]);
    store.dispatch({
      type: 'outgoingQueued',
      message: { client_message_id: 'cm-9', conversation_id: c.id, sender_id: me.id, body: 'x', created_at: '2024-01-01T12:00:00Z', state: 'sending', error: null },
    });
    store.dispatch({ type: 'outgoingFailed', conversationId: c.id, clientMessageId: 'cm-9', error: 'Too fast' });
    expect(ownStates(store, c.id)).toEqual(['Failed']);
    store.dispatch({ type: 'outgoingRetried', conversationId: c.id, clientMessageId: 'cm-9' });
    expect(store.getState().outbox[c.id]).toMatchObject([{ client_message_id: 'cm-9', state: 'sending', error: null }]);
  });
});

describe('conversations', () => {
  it('take unread counts from conversation_updated', () => {
    const store = createChatStore(me);
    const c = summary([member(me), member(bob)]);
    store.dispatch({ type: 'conversationUpserted', conversation: c });
    store.dispatch({ type: 'conversationUpserted', conversation: { ...c, unread_count: 3, last_message: message(c.id, 3, bob) } });
    expect(store.getState().conversations[c.id].unread_count).toBe(3);
    store.dispatch({ type: 'conversationUpserted', conversation: { ...c, unread_count: 0, last_message: message(c.id, 3, bob) } });
    expect(store.getState().conversations[c.id].unread_count).toBe(0);
  });

  it('are sorted newest activity first (last message, else creation time)', () => {
    const store = createChatStore(me);
    const old = summary([member(me), member(bob)], { last_message_at: '2024-01-02T10:00:00Z' });
    const fresh = summary([member(me), member(carol)], { last_message_at: '2024-01-03T10:00:00+00:00' });
    const created = summary([member(me), member(bob), member(carol)], { created_at: '2024-01-02T12:00:00Z' });
    store.dispatch({ type: 'conversationsLoaded', conversations: [old, created, fresh] });
    expect(sortConversations(store.getState().conversations).map((c) => c.id)).toEqual([fresh.id, created.id, old.id]);

    store.dispatch({ type: 'conversationUpserted', conversation: { ...old, last_message_at: '2024-01-04T00:00:00Z' } });
    expect(sortConversations(store.getState().conversations)[0].id).toBe(old.id);
  });
});

describe('typing and presence', () => {
  it('forgets a typist 6 s after their last typing event', () => {
    vi.useFakeTimers();
    const store = createChatStore(me);
    const typists = () => store.getState().typing['c1'] ?? [];

    store.dispatch({ type: 'typing', conversationId: 'c1', userId: bob.id, isTyping: true });
    vi.advanceTimersByTime(4000);
    store.dispatch({ type: 'typing', conversationId: 'c1', userId: bob.id, isTyping: true }); // re-arms
    vi.advanceTimersByTime(5999); // 6 s after the last event, minus 1 ms
    expect(typists()).toEqual([bob.id]);
    vi.advanceTimersByTime(1);
    expect(typists()).toEqual([]);
  });

  it('clears a typist on typing false and when their message arrives', () => {
    const store = createChatStore(me);
    store.dispatch({ type: 'typing', conversationId: 'c1', userId: bob.id, isTyping: true });
    store.dispatch({ type: 'typing', conversationId: 'c1', userId: carol.id, isTyping: true });
    store.dispatch({ type: 'typing', conversationId: 'c1', userId: carol.id, isTyping: false });
    expect(store.getState().typing['c1']).toEqual([bob.id]);
    store.dispatch({ type: 'messageReceived', message: message('c1', 1, bob) });
    expect(store.getState().typing['c1']).toEqual([]);
  });

  it('tracks presence events', () => {
    const store = createChatStore(me);
    store.dispatch({ type: 'presence', userId: bob.id, status: 'online' });
    expect(store.getState().presence[bob.id]).toBe('online');
    store.dispatch({ type: 'presence', userId: bob.id, status: 'offline' });
    expect(store.getState().presence[bob.id]).toBe('offline');
  });
});
