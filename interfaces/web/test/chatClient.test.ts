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
