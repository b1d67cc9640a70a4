import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Api } from '../src/api/http';
import type { Connection } from '../src/api/types';
import { ChatClient } from '../src/app/chatClient';
import { ChatContext } from '../src/app/context';
import { AuthScreen } from '../src/components/AuthScreen';
import { ChatWindow } from '../src/components/ChatWindow';
import { ConnectionsPanel } from '../src/components/ConnectionsPanel';
import { ConversationList } from '../src/components/ConversationList';
import { FakeSocket } from './fakeSocket';
import { member, message, summary, user } from './fixtures';

const me = user('alice');
const bob = user('bob');
const carol = user('carol');

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function makeClient() {
  const socket = new FakeSocket();
  socket.responders.get_conversations = () => ({ ok: true, conversations: [], next_cursor: null });
  const api = { listConnections: () => Promise.resolve({ connections: [] }) } as unknown as Api;
  const client = new ChatClient({ token: 't', me, onUnauthorized: vi.fn(), createSocket: () => socket, api, isVisible: () => false });
  return { client, socket };
}

function withClient(client: ChatClient, ui: ReactNode) {
  return render(<ChatContext.Provider value={client}>{ui}</ChatContext.Provider>);
}

describe('AuthScreen', () => {
  it('shows the server message in an alert when sign-in fails', async () => {
    const fetchMock = vi.fn(() =>
      Promise.resolve(
        new Response(JSON.stringify({ error: { code: 'invalid_credentials', message: 'Wrong username or password.' } }), {
          status: 401,
          headers: { 'Content-Type': 'application/json' },
        }),
      ),
    );
    vi.stubGlobal('fetch', fetchMock);
    const onSignedIn = vi.fn();
    render(<AuthScreen onSignedIn={onSignedIn} />);

    await userEvent.type(screen.getByLabelText('Username'), 'alice');
    await userEvent.type(screen.getByLabelText('Password'), 'nope-nope');
    expect(screen.getByLabelText('Display name')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Create account' })).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));

    expect((await screen.findByRole('alert')).textContent).toBe('Wrong username or password.');
    expect(fetchMock).toHaveBeenCalledWith('/api/auth/login', expect.objectContaining({ method: 'POST' }));
    expect(onSignedIn).not.toHaveBeenCalled();
  });
});

describe('ConversationList', () => {
  it('lists conversations newest first with names, last message and unread count', () => {
    const { client } = makeClient();
    const direct = summary([member(me), member(bob)], { created_at: '2024-01-01T00:00:00Z' });
    const group = summary([member(me), member(bob), member(carol)], { title: 'Team', created_at: '2024-01-01T00:00:00Z' });
    client.store.dispatch({
      type: 'conversationsLoaded',
      conversations: [
        { ...direct, last_message: message(direct.id, 1, bob, { body: 'old news' }), last_message_at: '2024-01-02T00:00:00Z' },
        { ...group, last_message: message(group.id, 7, carol, { body: 'fresh' }), last_message_at: '2024-01-03T00:00:00Z', unread_count: 3 },
      ],
    });
    withClient(client, <ConversationList activeId={null} />);

    const nav = screen.getByRole('navigation', { name: 'Conversations' });
    const items = within(nav).getAllByRole('listitem');
    expect(items.map((li) => li.querySelector('.conv-title')?.textContent)).toEqual(['Team', 'Bob']);
    expect(within(items[0]).getByText('fresh')).toBeTruthy();
    expect(within(items[0]).getByLabelText('3 unread')).toBeTruthy();
    expect(within(items[1]).queryByLabelText(/unread/)).toBeNull();
  });
});

describe('ChatWindow', () => {
  it('shows bodies as text in seq order, own states, Retry, typing, and sends on Enter', async () => {
    const { client, socket } = makeClient();
    client.start();
    socket.serverAccepts();
    const c = summary([member(me, 0, 0), member(bob, 2, 1)]);
    socket.responders.send_message = () => ({ ok: false, error: { code: 'not_connected', message: 'Not connected' } });
    client.store.dispatch({ type: 'conversationUpserted', conversation: c });
    client.store.dispatch({
      type: 'messagesLoaded',
      conversationId: c.id,
      mode: 'initial',
      hasMore: false,
      messages: [
        message(c.id, 3, me, { body: 'third' }),
        message(c.id, 1, me, { body: 'first' }),
        message(c.id, 2, bob, { body: '<b>not bold</b>' }),
      ],
    });
    client.store.dispatch({ type: 'typing', conversationId: c.id, userId: bob.id, isTyping: true });
    withClient(client, <ChatWindow conversationId={c.id} />);

    const log = screen.getByRole('log', { name: 'Messages' });
    const bodies = [...log.querySelectorAll('.msg-body')].map((el) => el.textContent);
    expect(bodies).toEqual(['first', '<b>not bold</b>', 'third']);
    expect(log.querySelector('b')).toBeNull();
    expect(within(log).getByText('Read')).toBeTruthy(); // seq 1: bob read up to 1
    expect(within(log).getByText('Sent')).toBeTruthy(); // seq 3: bob delivered up to 2 only
    expect(screen.getByText('Bob is typing')).toBeTruthy();

    const input = screen.getByRole('textbox', { name: 'Message' });
    await userEvent.type(input, 'line one{Shift>}{Enter}{/Shift}line two');
    expect((input as HTMLTextAreaElement).value).toBe('line one\nline two');
    await act(() => {
      fireEvent.keyDown(input, { key: 'Enter' });
      return Promise.resolve();
    });
    expect(socket.sent('send_message')[0]).toMatchObject({ conversation_id: c.id, body: 'line one\nline two' });
    expect((input as HTMLTextAreaElement).value).toBe('');
    expect(await within(log).findByText('Failed')).toBeTruthy();
    expect(within(log).getByRole('button', { name: 'Retry' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Send' })).toBeTruthy();
    client.stop();
  });
});

describe('ConnectionsPanel', () => {
  it('offers Accept/Decline for requests to me, and Message plus presence for connections', () => {
    const { client } = makeClient();
    const base = { created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z' };
    const incoming: Connection = { id: 'k1', requester: carol, addressee: me, status: 'pending', ...base };
    const connected: Connection = { id: 'k2', requester: me, addressee: bob, status: 'connected', ...base };
    client.store.dispatch({ type: 'connectionsLoaded', connections: [incoming, connected] });
    client.store.dispatch({ type: 'presence', userId: bob.id, status: 'online' });
    withClient(client, <ConnectionsPanel />);

    expect(screen.getByRole('textbox', { name: 'Add connection' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Send request' })).toBeTruthy();
    const carolRow = screen.getByText('Carol').closest('li')!;
    expect(within(carolRow).getByRole('button', { name: 'Accept' })).toBeTruthy();
    expect(within(carolRow).getByRole('button', { name: 'Decline' })).toBeTruthy();
    const bobRow = screen.getByText('Bob').closest('li')!;
    expect(within(bobRow).getByRole('button', { name: 'Message' })).toBeTruthy();
    expect(within(bobRow).getByRole('img', { name: 'Online' })).toBeTruthy();

    act(() => client.store.dispatch({ type: 'presence', userId: bob.id, status: 'offline' }));
    expect(within(bobRow).getByRole('img', { name: 'Offline' })).toBeTruthy();
  });
});

describe('message actions', () => {
  type Role = 'owner' | 'admin' | 'member';
  function openChat(opts: { group?: boolean; role?: Role; memberRole?: Role } = {}) {
    const { client, socket } = makeClient();
    client.start();
    socket.serverAccepts();
    const myEntry = { ...member(me), role: opts.memberRole ?? 'member' };
    const members = opts.group ? [myEntry, member(bob), member(carol)] : [myEntry, member(bob)];
    const c = summary(members, { role: opts.role });
    const original = message(c.id, 1, bob, { body: 'hello @alice' , mentions: [me.id] });
    const mine = message(c.id, 2, me, { body: 'mine' });
    const reply = message(c.id, 3, bob, {
      body: 'an answer',
      reply_to: { id: original.id, seq: 1, sender_id: bob.id, body: 'hello @alice', deleted: false },
      reactions: [{ emoji: '👍', user_ids: [bob.id, me.id] }],
    });
    const gone = message(c.id, 4, bob, { body: '', deleted: true });
    client.store.dispatch({ type: 'conversationUpserted', conversation: c });
    client.store.dispatch({ type: 'messagesLoaded', conversationId: c.id, mode: 'initial', hasMore: false, messages: [original, mine, reply, gone] });
    withClient(client, <ChatWindow conversationId={c.id} />);
    const log = screen.getByRole('log', { name: 'Messages' });
    const item = (seq: number) => log.querySelector<HTMLElement>(`[data-seq="${seq}"]`)!;
    const menuOf = async (seq: number) => {
      await userEvent.click(within(item(seq)).getByRole('button', { name: 'More actions' }));
      return within(item(seq))
        .getAllByRole('menuitem')
        .map((el) => el.textContent);
    };
    return { client, socket, c, log, item, menuOf, original, mine, reply };
  }

  it('offers Reply, Edit, Delete and React on own messages, Reply and React on others’', async () => {
    const { client, item, menuOf } = openChat();
    expect(await menuOf(2)).toEqual(['Reply', 'Edit', 'Delete', 'React']);
    await userEvent.keyboard('{Escape}');
    expect(within(item(2)).queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(within(item(2)).getByRole('button', { name: 'More actions' }));
    expect(await menuOf(1)).toEqual(['Reply', 'React']);
    client.stop();
  });

  it('lets a group owner or admin delete anyone’s message', async () => {
    const { client, menuOf } = openChat({ group: true, role: 'admin' });
    expect(await menuOf(1)).toEqual(['Reply', 'Delete', 'React']);
    client.stop();
    cleanup();
    // a summary without the caller's role: the one on their member entry counts
    const owner = openChat({ group: true, memberRole: 'owner' });
    expect(await owner.menuOf(1)).toEqual(['Reply', 'Delete', 'React']);
    owner.client.stop();
    cleanup();
    const plain = openChat({ group: true, role: 'member', memberRole: 'member' });
    expect(await plain.menuOf(1)).toEqual(['Reply', 'React']);
    plain.client.stop();
  });

  it('shows the tombstone without actions, the quote labelled by its author, mentions, and reactions', () => {
    const { client, item } = openChat();
    expect(item(4).textContent).toContain('This message was deleted');
    expect(within(item(4)).queryByRole('button', { name: 'More actions' })).toBeNull();
    const quote = within(item(3)).getByLabelText('Reply to Bob');
    expect(quote.textContent).toContain('hello @alice');
    const chip = within(item(3)).getByRole('button', { name: '👍 2' });
    expect(chip.getAttribute('aria-pressed')).toBe('true');
    expect(item(1).querySelector('mark')?.textContent).toBe('@alice');
    client.stop();
  });

  it('edits in the message field: the text is there, Enter saves, edited shows', async () => {
    const { client, socket, item, menuOf, mine } = openChat();
    socket.responders.edit_message = (p) => ({ ok: true, message: { ...mine, body: p.body, edited_at: '2024-01-01T13:00:00Z' } });
    await menuOf(2);
    await userEvent.click(within(item(2)).getByRole('menuitem', { name: 'Edit' }));
    const input = screen.getByRole<HTMLTextAreaElement>('textbox', { name: 'Message' });
    expect(input.value).toBe('mine');
    expect(screen.getByText('Editing message')).toBeTruthy();
    await userEvent.type(input, ', changed{Enter}');
    expect(socket.sent('edit_message')).toEqual([{ conversation_id: mine.conversation_id, message_id: mine.id, body: 'mine, changed' }]);
    expect(await within(item(2)).findByText('edited')).toBeTruthy();
    expect(within(item(2)).getByText('mine, changed')).toBeTruthy();
    expect((screen.getByRole<HTMLTextAreaElement>('textbox', { name: 'Message' })).value).toBe('');
    client.stop();
  });

  it('shows the versions of an edited message from its edited mark', async () => {
    const { client, socket, item, mine } = openChat();
    socket.responders.get_message_edits = () => ({
      ok: true,
      versions: [
        { body: 'first try', at: '2024-01-01T12:00:02Z' },
        { body: 'mine', at: '2024-01-01T13:00:00Z' },
      ],
    });
    act(() => client.store.dispatch({ type: 'messageUpdated', message: { ...mine, edited_at: '2024-01-01T13:00:00Z' } }));
    await userEvent.click(within(item(2)).getByRole('button', { name: 'edited' }));
    const dialog = await within(item(2)).findByRole('dialog', { name: 'Edit history' });
    await within(dialog).findByText('first try');
    expect(within(dialog).getAllByRole('listitem').map((li) => li.querySelector('.history-body')?.textContent)).toEqual(['first try', 'mine']);
    expect(socket.sent('get_message_edits')).toEqual([{ conversation_id: mine.conversation_id, message_id: mine.id }]);
    await userEvent.keyboard('{Escape}');
    expect(within(item(2)).queryByRole('dialog')).toBeNull();
    client.stop();
  });

  it('the up arrow in the empty message field edits the user’s last message', async () => {
    const { client } = openChat();
    const input = screen.getByRole<HTMLTextAreaElement>('textbox', { name: 'Message' });
    input.focus();
    await userEvent.keyboard('{ArrowUp}');
    expect(screen.getByRole<HTMLTextAreaElement>('textbox', { name: 'Message' }).value).toBe('mine');
    expect(screen.getByText('Editing message')).toBeTruthy();
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByText('Editing message')).toBeNull();
    expect(screen.getByRole<HTMLTextAreaElement>('textbox', { name: 'Message' }).value).toBe('');
    client.stop();
  });

  it('replies: the composer says to whom, and the message goes out with reply_to', async () => {
    const { client, socket, item, menuOf, original } = openChat();
    socket.responders.send_message = () => undefined;
    await menuOf(1);
    await userEvent.click(within(item(1)).getByRole('menuitem', { name: 'Reply' }));
    expect(screen.getByText('Replying to Bob')).toBeTruthy();
    await userEvent.type(screen.getByRole('textbox', { name: 'Message' }), 'sure{Enter}');
    expect(socket.sent('send_message')[0]).toMatchObject({ body: 'sure', reply_to: original.id });
    expect(screen.queryByText('Replying to Bob')).toBeNull();
    client.stop();
  });

  it('reacts from the picker, and a chip toggles the reaction', async () => {
    const { client, socket, item, menuOf, mine, reply } = openChat();
    socket.responders.react = () => undefined; // pending: the optimistic state is what shows
    await menuOf(2);
    await userEvent.click(within(item(2)).getByRole('menuitem', { name: 'React' }));
    const picker = within(item(2)).getByRole('dialog', { name: 'Pick a reaction' });
    await userEvent.click(within(picker).getByRole('button', { name: '🎉' }));
    expect(socket.sent('react')).toEqual([{ conversation_id: mine.conversation_id, message_id: mine.id, emoji: '🎉', add: true }]);
    expect(within(item(2)).getByRole('button', { name: '🎉 1' }).getAttribute('aria-pressed')).toBe('true');

    await userEvent.click(within(item(3)).getByRole('button', { name: '👍 2' }));
    expect(socket.sent('react')[1]).toEqual({ conversation_id: reply.conversation_id, message_id: reply.id, emoji: '👍', add: false });
    const chip = within(item(3)).getByRole('button', { name: '👍 1' });
    expect(chip.getAttribute('aria-pressed')).toBe('false');
    client.stop();
  });

  it('offers members after @ and inserts the chosen one', async () => {
    const { client } = openChat({ group: true });
    const input = screen.getByRole<HTMLTextAreaElement>('textbox', { name: 'Message' });
    await userEvent.type(input, 'hi @');
    const list = screen.getByRole('listbox', { name: 'Mention someone' });
    expect(within(list).getAllByRole('option').map((o) => o.textContent)).toEqual(['@bob Bob', '@carol Carol', '@all Everyone in this group']);
    await userEvent.type(input, 'c');
    expect(within(list).getAllByRole('option').map((o) => o.textContent)).toEqual(['@carol Carol']);
    await userEvent.keyboard('{Enter}');
    expect(input.value).toBe('hi @carol ');
    expect(screen.queryByRole('listbox')).toBeNull();
    client.stop();
  });
});

describe('ConversationList mentions', () => {
  it('shows N mentions next to the unread count', () => {
    const { client } = makeClient();
    const c = summary([member(me), member(bob)], { unread_count: 2, mention_count: 1 });
    client.store.dispatch({ type: 'conversationsLoaded', conversations: [c] });
    withClient(client, <ConversationList activeId={null} />);
    expect(screen.getByRole('img', { name: '1 mentions' })).toBeTruthy();
    expect(screen.getByRole('img', { name: '2 unread' })).toBeTruthy();
  });
});
