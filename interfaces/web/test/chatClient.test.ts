import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Api } from '../src/api/http';
import { ChatClient } from '../src/app/chatClient';
import { timeline } from '../src/state/selectors';
import { FakeSocket } from './fakeSocket';
import { member, message, summary, user } from './fixtures';

const me = user('alice');
const bob = user('bob');

const fakeApi = { listConnections: () => Promise.resolve({ connections: [] }) } as unknown as Api;

async function setup(opts: { visible?: boolean } = {}) {
  const socket = new FakeSocket();
  const conversation = summary([member(me), member(bob)]);
  socket.responders.get_conversations = () => ({ ok: true, conversations: [conversation], next_cursor: null });
  socket.responders.join_conversation = () => ({ ok: true, conversation });
  socket.responders.get_messages = () => ({ ok: true, messages: [], has_more: false });
  socket.responders.mark_as_read = () => ({ ok: true, unread_count: 0 });
  socket.responders.mark_as_delivered = () => ({ ok: true });
  socket.responders.typing_start = () => ({ ok: true });
  socket.responders.typing_stop = () => ({ ok: true });
  let visible = opts.visible ?? true;
  const client = new ChatClient({
    token: 't',
    me,
    onUnauthorized: vi.fn(),
    createSocket: () => socket,
    api: fakeApi,
    isVisible: () => visible,
    ackTimeoutMs: 1000,
  });
  client.start();
  socket.serverAccepts();
  await client.socket.whenSynced();
  return { socket, client, conversation, setVisible: (v: boolean) => (visible = v) };
}

function states(client: ChatClient, conversationId: string) {
  const s = client.store.getState();
  return timeline(s.messages[conversationId]?.items ?? [], s.outbox[conversationId], s.conversations[conversationId], me.id)
    .filter((i) => i.own)
    .map((i) => i.state);
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

afterEach(() => {
  vi.useRealTimers();
});

describe('ChatClient sending', () => {
  it('shows Sending until the ack, then Sent', async () => {
    const { socket, client, conversation } = await setup();
    socket.responders.send_message = (p) => ({
      ok: true,
      message: message(conversation.id, 1, me, { client_message_id: p.client_message_id, body: p.body }),
    });
    const sending = client.sendMessage(conversation.id, 'hello');
    expect(states(client, conversation.id)).toEqual(['Sending']);
    await sending;
    expect(states(client, conversation.id)).toEqual(['Sent']);
    const [payload] = socket.sent('send_message');
    expect(payload).toMatchObject({ conversation_id: conversation.id, body: 'hello' });
    expect(payload.client_message_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('marks an error ack Failed, and Retry re-sends with the same client_message_id', async () => {
    const { socket, client, conversation } = await setup();
    socket.responders.send_message = () => ({ ok: false, error: { code: 'rate_limited', message: 'Slow down', retry_after_ms: 100 } });
    await client.sendMessage(conversation.id, 'hello');
    expect(states(client, conversation.id)).toEqual(['Failed']);

    socket.responders.send_message = (p) => ({
      ok: true,
      message: message(conversation.id, 1, me, { client_message_id: p.client_message_id, body: p.body }),
    });
    const failed = client.store.getState().outbox[conversation.id][0];
    await client.retry(conversation.id, failed.client_message_id);

    const sent = socket.sent('send_message');
    expect(sent).toHaveLength(2);
    expect(sent[1].client_message_id).toBe(sent[0].client_message_id);
    expect(states(client, conversation.id)).toEqual(['Sent']);
  });

  it('marks a send without ack Failed after the timeout', async () => {
    const { socket, client, conversation } = await setup();
    vi.useFakeTimers();
    socket.responders.send_message = () => undefined;
    const sending = client.sendMessage(conversation.id, 'hello');
    await vi.advanceTimersByTimeAsync(999);
    expect(states(client, conversation.id)).toEqual(['Sending']);
    await vi.advanceTimersByTimeAsync(1);
    await sending;
    expect(states(client, conversation.id)).toEqual(['Failed']);
  });

  it('throttles typing_start to one per 2 s and sends typing_stop when the field is emptied', async () => {
    const { socket, client, conversation } = await setup();
    vi.useFakeTimers();
    client.typing(conversation.id, 'h');
    client.typing(conversation.id, 'he');
    vi.advanceTimersByTime(2000);
    client.typing(conversation.id, 'hel');
    expect(socket.sent('typing_start')).toHaveLength(2);
    client.typing(conversation.id, '');
    expect(socket.sent('typing_stop')).toEqual([{ conversation_id: conversation.id }]);
  });
});

describe('ChatClient receipts', () => {
  it('marks the open conversation read when a message arrives and the page is visible', async () => {
    const { socket, client, conversation, setVisible } = await setup();
    client.openConversation(conversation.id);
    await flush();
    socket.fire('message_new', message(conversation.id, 1, bob));
    expect(socket.sent('mark_as_read')).toEqual([{ conversation_id: conversation.id, up_to_seq: 1 }]);

    setVisible(false);
    socket.fire('message_new', message(conversation.id, 2, bob));
    expect(socket.sent('mark_as_read')).toHaveLength(1);
    setVisible(true);
    document.dispatchEvent(new Event('visibilitychange'));
    expect(socket.sent('mark_as_read')).toEqual([
      { conversation_id: conversation.id, up_to_seq: 1 },
      { conversation_id: conversation.id, up_to_seq: 2 },
    ]);
  });

  it('marks messages of conversations that are not open as delivered', async () => {
    const { socket, conversation } = await setup();
    socket.fire('conversation_updated', { ...conversation, last_message: message(conversation.id, 3, bob), unread_count: 3 });
    expect(socket.sent('mark_as_delivered')).toEqual([{ conversation_id: conversation.id, up_to_seq: 3 }]);
    expect(socket.sent('mark_as_read')).toEqual([]);
  });
});

describe('ChatClient message changes', () => {
  async function withMessages() {
    const env = await setup();
    const { client, conversation } = env;
    const mine = message(conversation.id, 1, me, { body: 'mine' });
    const theirs = message(conversation.id, 2, bob, { body: 'theirs', reactions: [{ emoji: '👍', user_ids: [bob.id] }] });
    client.store.dispatch({ type: 'messagesLoaded', conversationId: conversation.id, messages: [mine, theirs], mode: 'initial', hasMore: false });
    const shown = () => {
      const s = client.store.getState();
      return timeline(s.messages[conversation.id].items, [], s.conversations[conversation.id], me.id, s.pending);
    };
    return { ...env, mine, theirs, shown };
  }

  it('shows an edit before its ack, then the server’s version', async () => {
    const { socket, client, conversation, mine, shown } = await withMessages();
    socket.responders.edit_message = (p) => ({
      ok: true,
      message: { ...mine, body: `${p.body.trim()} (as stored)`, edited_at: '2024-01-01T13:00:00Z' },
    });
    const editing = client.editMessage(conversation.id, mine.id, 'mine, better ');
    expect(shown()[0]).toMatchObject({ body: 'mine, better', edited: true, changing: true });
    expect(socket.sent('edit_message')).toEqual([{ conversation_id: conversation.id, message_id: mine.id, body: 'mine, better ' }]);
    expect(await editing).toBe(true);
    expect(shown()[0]).toMatchObject({ body: 'mine, better (as stored)', edited: true, changing: false });
  });

  it('rolls an edit back when the server refuses it, and says why', async () => {
    const { socket, client, conversation, mine, shown } = await withMessages();
    socket.responders.edit_message = () => ({ ok: false, error: { code: 'not_connected', message: 'You are no longer connected.' } });
    const editing = client.editMessage(conversation.id, mine.id, 'changed');
    expect(shown()[0].body).toBe('changed');
    expect(await editing).toBe(false);
    expect(shown()[0]).toMatchObject({ body: 'mine', edited: false, changing: false });
    expect(client.store.getState().notice).toBe('You are no longer connected.');
  });

  it('does not send an edit that changes nothing', async () => {
    const { socket, client, conversation, mine } = await withMessages();
    expect(await client.editMessage(conversation.id, mine.id, '  mine ')).toBe(false);
    expect(socket.sent('edit_message')).toEqual([]);
  });

  it('shows a deletion at once, keeps the tombstone on success, and restores the message on refusal', async () => {
    const { socket, client, conversation, mine, theirs, shown } = await withMessages();
    socket.responders.delete_message = (p) => ({ ok: true, message: { ...mine, id: p.message_id, body: '', deleted: true } });
    const deleting = client.deleteMessage(conversation.id, mine.id);
    expect(shown()[0].deleted).toBe(true);
    expect(await deleting).toBe(true);
    expect(shown()[0]).toMatchObject({ deleted: true, changing: false });

    socket.responders.delete_message = () => ({ ok: false, error: { code: 'forbidden', message: 'Only its sender can delete it.' } });
    const refused = client.deleteMessage(conversation.id, theirs.id);
    expect(shown()[1].deleted).toBe(true);
    expect(await refused).toBe(false);
    expect(shown()[1]).toMatchObject({ deleted: false, body: 'theirs' });
  });

  it('toggles a reaction: adds it when absent, takes it back when present, rolls back on refusal', async () => {
    const { socket, client, conversation, theirs, shown } = await withMessages();
    socket.responders.react = (p) => ({
      ok: true,
      reactions: p.add ? [{ emoji: '👍', user_ids: [bob.id, me.id] }] : [{ emoji: '👍', user_ids: [bob.id] }],
    });
    const adding = client.toggleReaction(conversation.id, theirs.id, '👍');
    expect(shown()[1].reactions).toEqual([{ emoji: '👍', user_ids: [bob.id, me.id] }]);
    await adding;
    await client.toggleReaction(conversation.id, theirs.id, '👍');
    expect(socket.sent('react').map((p) => [p.emoji, p.add])).toEqual([
      ['👍', true],
      ['👍', false],
    ]);
    expect(shown()[1].reactions).toEqual([{ emoji: '👍', user_ids: [bob.id] }]);

    socket.responders.react = () => ({ ok: false, error: { code: 'invalid_state', message: 'Too many reactions.' } });
    const refused = client.toggleReaction(conversation.id, theirs.id, '🎉');
    expect(shown()[1].reactions.map((r) => r.emoji)).toEqual(['👍', '🎉']);
    await refused;
    expect(shown()[1].reactions.map((r) => r.emoji)).toEqual(['👍']);
  });

  it('rolls a change back when no ack comes in time', async () => {
    const { socket, client, conversation, theirs, shown } = await withMessages();
    vi.useFakeTimers();
    socket.responders.react = () => undefined;
    const reacting = client.toggleReaction(conversation.id, theirs.id, '🎉');
    expect(shown()[1].reactions).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await reacting).toBe(false);
    expect(shown()[1].reactions).toHaveLength(1);
  });

  it('sends a reply with reply_to and shows its quote while sending', async () => {
    const { socket, client, conversation, theirs } = await withMessages();
    socket.responders.send_message = () => undefined;
    const quote = { id: theirs.id, seq: 2, sender_id: bob.id, body: 'theirs', deleted: false };
    void client.sendMessage(conversation.id, 'answer', quote);
    expect(socket.sent('send_message')[0]).toMatchObject({ body: 'answer', reply_to: theirs.id });
    const s = client.store.getState();
    const sending = timeline([], s.outbox[conversation.id], undefined, me.id);
    expect(sending[0]).toMatchObject({ body: 'answer', replyTo: quote, state: 'Sending' });
  });

  it('applies message_updated and reactions_updated from the server', async () => {
    const { socket, mine, theirs, shown } = await withMessages();
    socket.fire('message_updated', { ...mine, body: 'edited elsewhere', edited_at: '2024-01-01T13:00:00Z' });
    socket.fire('reactions_updated', { conversation_id: theirs.conversation_id, message_id: theirs.id, reactions: [] });
    expect(shown()[0]).toMatchObject({ body: 'edited elsewhere', edited: true });
    expect(shown()[1].reactions).toEqual([]);
  });
});

describe('ChatClient tokens', () => {
  it('its HTTP calls and uploads use the current (renewed) token, not the one it was signed in with', async () => {
    const seen: string[] = [];
    const api = {
      listConnections: () => Promise.resolve({ connections: [] }),
      listBlocked: (token: string) => (seen.push(`blocks ${token}`), Promise.resolve({ blocked: [] })),
      block: (token: string) => (seen.push(`block ${token}`), Promise.resolve({ blocked: [] })),
      unblock: (token: string) => (seen.push(`unblock ${token}`), Promise.resolve({ blocked: [] })),
      unread: (token: string) => (seen.push(`unread ${token}`), Promise.resolve({ unread_count: 0, mention_count: 0 })),
    } as unknown as Api;
    const upload = vi.fn((opts: { token: string }) => (seen.push(`upload ${opts.token}`), Promise.reject(new Error('no'))));
    const tokens = {
      token: 'access-2',
      renew: () => Promise.resolve('access-2'),
      withToken: <T>(call: (token: string) => Promise<T>) => call('access-2'),
      end: vi.fn(),
      erase: vi.fn(),
    };
    const client = new ChatClient({
      token: 'access-0',
      me,
      onUnauthorized: vi.fn(),
      tokens,
      createSocket: () => new FakeSocket(),
      api,
      upload,
      isVisible: () => false,
    });
    await client.loadBlocked();
    await client.block(bob.id);
    await client.unblock(bob.id);
    await client.loadUnread();
    await client.attachFiles('c-1', [{ file: new Blob(['x']), name: 'x.txt' }]);
    expect(seen).toEqual(['blocks access-2', 'block access-2', 'unblock access-2', 'unread access-2', 'upload access-2']);
  });
});
