import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Message } from '../src/api/types';
import { emitWithAck } from '../src/socket/ack';
import { SocketService } from '../src/socket/socketService';
import { createChatStore } from '../src/state/store';
import { FakeSocket } from './fakeSocket';
import { member, message, summary, user } from './fixtures';

const me = user('alice');
const bob = user('bob');

function setup() {
  const store = createChatStore(me);
  const socket = new FakeSocket();
  const onUnauthorized = vi.fn();
  const service = new SocketService({ token: 'jwt-1', store, createSocket: () => socket, onUnauthorized, ackTimeoutMs: 1000 });
  return { store, socket, service, onUnauthorized };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SocketService', () => {
  it('passes the token to the socket factory and reports the connection state', async () => {
    const store = createChatStore(me);
    const socket = new FakeSocket();
    const factory = vi.fn(() => socket);
    socket.responders.get_conversations = () => ({ ok: true, conversations: [], next_cursor: null });
    const service = new SocketService({ token: 'jwt-1', store, createSocket: factory });

    service.start();
    expect(factory).toHaveBeenCalledWith('jwt-1');
    expect(socket.connectCalls).toBe(1);
    expect(store.getState().connection).toBe('connecting');

    socket.serverAccepts();
    expect(store.getState().connection).toBe('online');
    await service.whenSynced();

    socket.networkDrops();
    expect(store.getState().connection).toBe('reconnecting');
    socket.fire('connect_error', Object.assign(new Error('xhr poll error'), { data: undefined }));
    expect(store.getState().connection).toBe('reconnecting');

    service.stop();
    expect(store.getState().connection).toBe('offline');
    expect(socket.disconnectCalls).toBe(1);
  });

  it('after a reconnect re-joins, reloads the list and fetches missed messages after the last seen seq', async () => {
    const { store, socket, service } = setup();
    const c = summary([member(me), member(bob)]);
    const all: Message[] = [1, 2, 3, 4, 5, 6, 7].map((seq) => message(c.id, seq, bob));
    let known = 3; // messages the server has stored so far

    socket.responders.get_conversations = () => ({ ok: true, conversations: [c], next_cursor: null });
    socket.responders.join_conversation = () => ({ ok: true, conversation: c });
    socket.responders.get_messages = (p) => {
      const stored = all.slice(0, known);
      const after = p.after_seq;
      if (after === undefined || after === null) return { ok: true, messages: stored.slice(-50), has_more: false };
      const newer = stored.filter((m) => m.seq > after);
      return { ok: true, messages: newer.slice(0, 2), has_more: newer.length > 2 };
    };

    service.start();
    socket.serverAccepts();
    await service.whenSynced();
    await service.openConversation(c.id);
    expect(store.getState().messages[c.id].items.map((m) => m.seq)).toEqual([1, 2, 3]);

    socket.networkDrops();
    known = 7; // four messages arrive while this client is away
    socket.emitted.length = 0;
    socket.serverAccepts();
    await service.whenSynced();

    expect(socket.sent('join_conversation')).toEqual([{ conversation_id: c.id }]);
    expect(socket.sent('get_conversations')).toHaveLength(1);
    // the missed ones after the last seen seq, then the loaded ones again (for changes made meanwhile)
    expect(socket.sent('get_messages').map((p) => [p.after_seq, p.before_seq])).toEqual([
      [3, undefined],
      [5, undefined],
      [undefined, 8],
    ]);
    expect(socket.sent('get_messages').every((p) => p.conversation_id === c.id)).toBe(true);
    expect(store.getState().messages[c.id].items.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('fills a gap left between the loaded messages from the first contiguous seq', async () => {
    const { store, socket, service } = setup();
    const c = summary([member(me), member(bob)]);
    socket.responders.get_conversations = () => ({ ok: true, conversations: [c], next_cursor: null });
    socket.responders.join_conversation = () => ({ ok: true, conversation: c });
    socket.responders.get_messages = (p) =>
      p.after_seq === undefined || p.after_seq === null
        ? { ok: true, messages: [message(c.id, 1, bob), message(c.id, 2, bob)], has_more: false }
        : { ok: true, messages: [3, 4, 5].map((s) => message(c.id, s, bob)).filter((m) => m.seq > p.after_seq!), has_more: false };

    service.start();
    socket.serverAccepts();
    await service.whenSynced();
    await service.openConversation(c.id);
    socket.fire('message_new', message(c.id, 5, bob)); // 3 and 4 were missed

    socket.networkDrops();
    socket.emitted.length = 0;
    socket.serverAccepts();
    await service.whenSynced();

    expect(socket.sent('get_messages').map((p) => p.after_seq)).toEqual([2, undefined]);
    expect(store.getState().messages[c.id].items.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('after a reconnect shows the edits, deletions and reactions made while it was away', async () => {
    const { store, socket, service } = setup();
    const c = summary([member(me), member(bob)]);
    let stored: Message[] = [1, 2, 3].map((seq) => message(c.id, seq, bob));
    socket.responders.get_conversations = () => ({ ok: true, conversations: [c], next_cursor: null });
    socket.responders.join_conversation = () => ({ ok: true, conversation: c });
    socket.responders.get_messages = (p) => {
      const after = p.after_seq ?? 0;
      const before = p.before_seq ?? Infinity;
      const page = stored.filter((m) => m.seq > after && m.seq < before);
      return { ok: true, messages: page.slice(-(p.limit ?? 50)), has_more: false };
    };
    service.start();
    socket.serverAccepts();
    await service.whenSynced();
    await service.openConversation(c.id);

    socket.networkDrops();
    stored = [
      message(c.id, 1, bob, { body: 'changed', edited_at: '2024-01-01T13:00:00Z' }),
      message(c.id, 2, bob, { body: '', deleted: true }),
      message(c.id, 3, bob, { reactions: [{ emoji: '👍', user_ids: [me.id] }] }),
    ];
    socket.serverAccepts();
    await service.whenSynced();

    const items = store.getState().messages[c.id].items;
    expect(items.map((m) => [m.body, m.deleted, m.reactions.length])).toEqual([
      ['changed', false, 0],
      ['', true, 0],
      ['message 3', false, 1],
    ]);
  });

  it('signs the user out when the server refuses the token', () => {
    const { store, socket, service, onUnauthorized } = setup();
    service.start();
    socket.active = false;
    socket.fire('connect_error', Object.assign(new Error('refused'), { data: { code: 'unauthorized', message: 'Token expired' } }));
    expect(onUnauthorized).toHaveBeenCalledWith('Token expired');
    expect(store.getState().connection).toBe('offline');
    expect(socket.disconnectCalls).toBe(1);
  });

  it('reconnects by itself after the server closes the socket', () => {
    vi.useFakeTimers();
    const { socket, service } = setup();
    socket.responders.get_conversations = () => ({ ok: true, conversations: [], next_cursor: null });
    service.start();
    socket.serverAccepts();
    socket.connected = false;
    socket.fire('disconnect', 'io server disconnect');
    expect(socket.connectCalls).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(socket.connectCalls).toBe(2);
  });

  it('turns server events into state', async () => {
    const { store, socket, service } = setup();
    const c = summary([member(me), member(bob)]);
    socket.responders.get_conversations = () => ({ ok: true, conversations: [], next_cursor: null });
    service.start();
    socket.serverAccepts();
    await service.whenSynced();

    socket.fire('conversation_updated', { ...c, unread_count: 2 });
    socket.fire('presence', { user_id: bob.id, status: 'online', last_seen_at: null });
    socket.fire('typing', { conversation_id: c.id, user_id: bob.id, is_typing: true });
    socket.fire('messages_read', { conversation_id: c.id, user_id: bob.id, up_to_seq: 4, read_at: '2024-01-01T00:00:00Z' });

    const s = store.getState();
    expect(s.conversations[c.id].unread_count).toBe(2);
    expect(s.presence[bob.id]).toBe('online');
    expect(s.typing[c.id]).toEqual([bob.id]);
    expect(s.conversations[c.id].members.find((m) => m.user.id === bob.id)).toMatchObject({ last_read_seq: 4, last_delivered_seq: 4 });
  });
});

describe('emitWithAck', () => {
  it('resolves with the ack object, or a timeout error when none comes', async () => {
    vi.useFakeTimers();
    const socket = new FakeSocket();
    socket.responders.mark_as_read = () => ({ ok: true, unread_count: 0 });
    await expect(emitWithAck(socket, 'mark_as_read', { conversation_id: 'c', up_to_seq: 1 }, 500)).resolves.toEqual({ ok: true, unread_count: 0 });

    socket.responders.typing_start = () => undefined; // never acks
    const pending = emitWithAck(socket, 'typing_start', { conversation_id: 'c' }, 500);
    vi.advanceTimersByTime(500);
    await expect(pending).resolves.toMatchObject({ ok: false, error: { code: 'timeout' } });
  });
});
