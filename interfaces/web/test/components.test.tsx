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
