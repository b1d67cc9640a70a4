// Erasure in the web client (contract sections 5 and 11): `Delete account` on the Settings page, the
// sign-out that follows (no reconnecting with a refused token), and deleted users shown everywhere.
import { act, cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type Api } from '../src/api/http';
import type { Connection, User } from '../src/api/types';
import { ACCOUNT_DELETED, ChatClient } from '../src/app/chatClient';
import { ChatContext } from '../src/app/context';
import { saveSession, SESSION_KEY } from '../src/app/session';
import { SessionKeeper } from '../src/app/sessionKeeper';
import { ChatWindow } from '../src/components/ChatWindow';
import { ConnectionsPanel } from '../src/components/ConnectionsPanel';
import { ConversationList } from '../src/components/ConversationList';
import { GroupSettingsDialog } from '../src/components/GroupSettingsDialog';
import { mentionCandidates } from '../src/state/mentions';
import { SocketService } from '../src/socket/socketService';
import { createChatStore } from '../src/state/store';
import { FakeSocket } from './fakeSocket';
import { member, message, summary, user } from './fixtures';

const sockets: FakeSocket[] = [];
vi.mock('../src/socket/createSocket', () => ({
  createSocket: () => {
    const socket = new FakeSocket();
    sockets.push(socket);
    return socket;
  },
}));

const { App } = await import('../src/App');

const me = user('alice');
const bob = user('bob');
const carol = user('carol');

/** A user as the server shows them once erased. */
function erased(u: User): User {
  return { ...u, username: null, display_name: 'Deleted user', deleted: true };
}

function jsonResponse(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const wrongPassword = () => new ApiError(401, 'invalid_credentials', 'The password is wrong.');

beforeEach(() => {
  sockets.length = 0;
  localStorage.clear();
  window.location.hash = '';
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('Delete account (the whole app)', () => {
  it('refuses a wrong password with the server message and stays signed in; then erases, clears the session and signs out', async () => {
    saveSession({ token: 'access-0', user: me, refreshToken: 'refresh-0', expiresAt: Date.now() + 600_000, ttlMs: 600_000 });
    window.location.hash = '#/settings';
    const deletes: { auth: string | null; body: unknown }[] = [];
    const fetchMock = vi.fn((url: string, init: RequestInit) => {
      if (url === '/api/users/me' && init.method === 'DELETE') {
        const body = JSON.parse(init.body as string) as { password: string };
        deletes.push({ auth: new Headers(init.headers).get('Authorization'), body });
        return Promise.resolve(
          body.password === 'right password'
            ? jsonResponse(200, {})
            : jsonResponse(401, { error: { code: 'invalid_credentials', message: 'The password is wrong.' } }),
        );
      }
      if (url === '/api/users/me') return Promise.resolve(jsonResponse(200, { user: me }));
      if (url === '/api/connections') return Promise.resolve(jsonResponse(200, { connections: [] }));
      if (url === '/api/blocks') return Promise.resolve(jsonResponse(200, { blocked: [] }));
      if (url === '/api/unread') return Promise.resolve(jsonResponse(200, { unread_count: 0, mention_count: 0 }));
      return Promise.resolve(jsonResponse(404, { error: { code: 'not_found', message: `no ${url}` } }));
    });
    vi.stubGlobal('fetch', fetchMock);
    render(<App />);
    const socket = sockets[0];
    socket.responders.get_conversations = () => ({ ok: true, conversations: [], next_cursor: null });
    await act(() => Promise.resolve(socket.serverAccepts()));

    expect(await screen.findByRole('heading', { name: 'Settings' })).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Delete account' }));
    expect(screen.getByText(/cannot be undone/, { selector: '#delete-account-warning' })).toBeTruthy();
    const field = screen.getByLabelText('Password');
    expect(field.getAttribute('type')).toBe('password');

    // nothing typed: said, and nothing sent
    await userEvent.click(screen.getByRole('button', { name: 'Delete my account' }));
    expect(screen.getByRole('alert').textContent).toBe('Enter your password to delete your account.');
    expect(deletes).toHaveLength(0);

    await userEvent.type(field, 'wrong password');
    await userEvent.click(screen.getByRole('button', { name: 'Delete my account' }));
    await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toBe('The password is wrong.'));
    expect(deletes).toEqual([{ auth: 'Bearer access-0', body: { password: 'wrong password' } }]);
    // still signed in: the page, the stored session, the socket; no renewal for a wrong password
    expect(screen.queryByRole('button', { name: 'Sign in' })).toBeNull();
    expect(localStorage.getItem(SESSION_KEY)).not.toBeNull();
    expect(socket.disconnectCalls).toBe(0);
    expect(fetchMock.mock.calls.some(([url]) => url === '/api/auth/refresh')).toBe(false);

    await userEvent.type(screen.getByLabelText('Password'), 'right password');
    await userEvent.click(screen.getByRole('button', { name: 'Delete my account' }));
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeTruthy();
    expect(screen.getByRole('status').textContent).toBe(ACCOUNT_DELETED);
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
    expect(deletes[1]).toEqual({ auth: 'Bearer access-0', body: { password: 'right password' } });
    expect(socket.disconnectCalls).toBeGreaterThan(0);
    expect(sockets).toHaveLength(1); // no new socket for a signed-out user
  });

  it('Cancel closes the form without asking the server', async () => {
    saveSession({ token: 'access-0', user: me });
    window.location.hash = '#/settings';
    const fetchMock = vi.fn((url: string, _init?: RequestInit) =>
      Promise.resolve(url === '/api/blocks' ? jsonResponse(200, { blocked: [] }) : jsonResponse(200, { connections: [], user: me })),
    );
    vi.stubGlobal('fetch', fetchMock);
    render(<App />);
    await userEvent.click(await screen.findByRole('button', { name: 'Delete account' }));
    await userEvent.type(screen.getByLabelText('Password'), 'something');
    await userEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByLabelText('Password')).toBeNull();
    expect(screen.getByRole('button', { name: 'Delete account' })).toBeTruthy();
    expect(fetchMock.mock.calls.some(([, init]) => init?.method === 'DELETE')).toBe(false);
  });
});

describe('ChatClient.deleteAccount with its SessionKeeper', () => {
  const refusal = () => Object.assign(new Error('refused'), { data: { code: 'unauthorized', message: 'Not signed in.' } });

  function setup(deleteAccount: Api['deleteAccount']) {
    const socket = new FakeSocket();
    socket.responders.get_conversations = () => ({ ok: true, conversations: [], next_cursor: null });
    const api = { listConnections: () => Promise.resolve({ connections: [] }), deleteAccount } as unknown as Api;
    const session = { token: 'access-0', user: me, refreshToken: 'refresh-0', expiresAt: Date.now() + 600_000, ttlMs: 600_000 };
    saveSession(session);
    // every session of the account ends on the server before it answers: refreshing is refused
    const refresh = vi.fn(() => Promise.reject(new ApiError(401, 'unauthorized', 'Session ended.')));
    const onSignedOut = vi.fn();
    const keeper = new SessionKeeper(session, { api: { refresh, logout: vi.fn() }, locks: null, onSignedOut });
    keeper.start();
    const onUnauthorized = vi.fn();
    const client = new ChatClient({ token: 'access-0', me, onUnauthorized, tokens: keeper, createSocket: () => socket, api, isVisible: () => false });
    client.socket.start();
    socket.serverAccepts();
    return { client, socket, onSignedOut, onUnauthorized, refresh, keeper };
  }

  it('a wrong password rejects and ends nothing', async () => {
    const { client, socket, onSignedOut, onUnauthorized, refresh, keeper } = setup(() => Promise.reject(wrongPassword()));
    await expect(client.deleteAccount('nope')).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(refresh).not.toHaveBeenCalled();
    expect(onSignedOut).not.toHaveBeenCalled();
    expect(onUnauthorized).not.toHaveBeenCalled();
    expect(localStorage.getItem(SESSION_KEY)).not.toBeNull();
    expect(socket.disconnectCalls).toBe(0);
    expect(client.store.getState().connection).toBe('online');
    client.stop();
    keeper.stop();
  });

  it('the server drops the socket before it answers: one refused reconnect, then quiet; signed out once, as deleted, on the answer', async () => {
    vi.useFakeTimers();
    let answer: (body: object) => void = () => undefined;
    const deleteAccount = vi.fn(() => new Promise<object>((resolve) => (answer = resolve)));
    const { client, socket, onSignedOut, refresh } = setup(deleteAccount);
    const deleting = client.deleteAccount('right');
    expect(deleteAccount).toHaveBeenCalledWith('access-0', 'right');

    socket.connected = false;
    socket.active = false;
    socket.fire('disconnect', 'io server disconnect');
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.connectCalls).toBe(2);
    socket.fire('connect_error', refusal());
    await vi.advanceTimersByTimeAsync(0);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(onSignedOut).not.toHaveBeenCalled(); // the answer is awaited
    await vi.advanceTimersByTimeAsync(120_000);
    expect(socket.connectCalls).toBe(2); // no loop
    expect(refresh).toHaveBeenCalledTimes(1);

    answer({});
    await deleting;
    expect(onSignedOut).toHaveBeenCalledTimes(1);
    expect(onSignedOut).toHaveBeenCalledWith(ACCOUNT_DELETED);
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
    expect(client.store.getState().connection).toBe('offline');
  });

  it('on an answer before any disconnect, stops the socket first: the disconnect that follows changes nothing', async () => {
    vi.useFakeTimers();
    const { client, socket, onSignedOut, refresh } = setup(() => Promise.resolve({}));
    await client.deleteAccount('right');
    expect(onSignedOut).toHaveBeenCalledWith(ACCOUNT_DELETED);
    expect(socket.disconnectCalls).toBe(1);
    socket.fire('disconnect', 'io server disconnect'); // (its listeners are gone)
    await vi.advanceTimersByTimeAsync(120_000);
    expect(socket.connectCalls).toBe(1);
    expect(refresh).not.toHaveBeenCalled();
    expect(onSignedOut).toHaveBeenCalledTimes(1);
  });

  it('when the erasure fails after the sessions ended, the sign-out that waited happens with its message', async () => {
    vi.useFakeTimers();
    let fail: (err: Error) => void = () => undefined;
    const { client, socket, onSignedOut } = setup(() => new Promise<object>((_resolve, reject) => (fail = reject)));
    const deleting = client.deleteAccount('right');
    socket.connected = false;
    socket.fire('disconnect', 'io server disconnect');
    await vi.advanceTimersByTimeAsync(1000);
    socket.fire('connect_error', refusal());
    await vi.advanceTimersByTimeAsync(0);
    expect(onSignedOut).not.toHaveBeenCalled();
    fail(new ApiError(500, 'internal', 'Something failed (ref 42).'));
    await expect(deleting).rejects.toThrow('Something failed (ref 42).');
    expect(onSignedOut).toHaveBeenCalledTimes(1);
    expect(onSignedOut).toHaveBeenCalledWith('Session ended.');
  });
});

describe('an erased session elsewhere (another device deleted the account)', () => {
  it('the server dropping the socket leads to one refused reconnect, one refused renewal, then signed out: no loop', async () => {
    vi.useFakeTimers();
    const store = createChatStore(me);
    const socket = new FakeSocket();
    const onUnauthorized = vi.fn();
    const renew = vi.fn(() => Promise.resolve(null)); // the refresh token is refused too
    const service = new SocketService({ token: 'access-0', store, createSocket: () => socket, onUnauthorized, renew });
    socket.responders.get_conversations = () => ({ ok: true, conversations: [], next_cursor: null });
    service.start();
    socket.serverAccepts();
    socket.connected = false;
    socket.active = false;
    socket.fire('disconnect', 'io server disconnect');
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.connectCalls).toBe(2);
    socket.fire('connect_error', Object.assign(new Error('refused'), { data: { code: 'unauthorized', message: 'Not signed in.' } }));
    await vi.advanceTimersByTimeAsync(0);
    expect(renew).toHaveBeenCalledTimes(1);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(onUnauthorized).toHaveBeenCalledWith('Not signed in.');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(socket.connectCalls).toBe(2);
    expect(store.getState().connection).toBe('offline');
  });
});

describe('SessionKeeper and erasure', () => {
  it('does not renew for a wrong password, and end() forgets the session here for good', async () => {
    vi.useFakeTimers();
    const session = { token: 'access-0', user: me, refreshToken: 'refresh-0', expiresAt: Date.now() + 3000, ttlMs: 3000 };
    saveSession(session);
    const refresh = vi.fn(() => Promise.reject(new ApiError(401, 'unauthorized', 'gone')));
    const onSignedOut = vi.fn();
    const keeper = new SessionKeeper(session, { api: { refresh, logout: vi.fn() }, locks: null, onSignedOut });
    keeper.start();
    await expect(keeper.withToken(() => Promise.reject(wrongPassword()))).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(refresh).not.toHaveBeenCalled();
    expect(onSignedOut).not.toHaveBeenCalled();

    keeper.end(ACCOUNT_DELETED);
    keeper.end(ACCOUNT_DELETED);
    expect(onSignedOut).toHaveBeenCalledTimes(1);
    expect(onSignedOut).toHaveBeenCalledWith(ACCOUNT_DELETED);
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(refresh).not.toHaveBeenCalled(); // no renewal scheduled any more
    await expect(keeper.renew()).resolves.toBeNull();
  });
});

describe('deleted users in the UI (username null, "Deleted user")', () => {
  function makeClient(connections: Connection[] = []) {
    const socket = new FakeSocket();
    socket.responders.get_conversations = () => ({ ok: true, conversations: [], next_cursor: null });
    const api = {
      listConnections: () => Promise.resolve({ connections }),
      listBlocked: () => Promise.resolve({ blocked: [] }),
    } as unknown as Api;
    const client = new ChatClient({ token: 't', me, onUnauthorized: vi.fn(), createSocket: () => socket, api, isVisible: () => false });
    return { client, socket };
  }
  const withClient = (client: ChatClient, ui: ReactNode) =>
    render(<ChatContext.Provider value={client}>{ui}</ChatContext.Provider>);

  it('a direct conversation with a deleted user: named "Deleted user", tombstones, no field to write in', () => {
    const { client } = makeClient();
    const gone = erased(bob);
    const c = summary([member(me), member(gone)]);
    client.store.dispatch({ type: 'conversationUpserted', conversation: c });
    client.store.dispatch({
      type: 'messagesLoaded',
      conversationId: c.id,
      messages: [message(c.id, 1, gone, { body: '', deleted: true }), message(c.id, 2, me, { body: 'are you there?' })],
      mode: 'initial',
      hasMore: false,
    });
    client.store.dispatch({ type: 'typing', conversationId: c.id, userId: gone.id, isTyping: true });
    withClient(client, <ChatWindow conversationId={c.id} />);

    expect(screen.getByRole('heading', { name: 'Deleted user' })).toBeTruthy();
    expect(screen.getByText('Account deleted')).toBeTruthy();
    const log = screen.getByRole('log', { name: 'Messages' });
    expect(within(log).getByText('This message was deleted')).toBeTruthy();
    expect(within(log).getByText('are you there?')).toBeTruthy();
    expect(screen.getByRole('note').textContent).toMatch(/This account was deleted/);
    expect(screen.queryByLabelText('Message')).toBeNull();
    expect(document.body.textContent).not.toMatch(/@null|undefined/);
  });

  it('a group keeps naming a deleted former member; mentions never offer them', () => {
    const { client } = makeClient();
    const gone = erased(carol);
    const group = summary([member(me), member(bob)], { kind: 'group', title: 'Team', former_members: [gone] });
    client.store.dispatch({ type: 'conversationUpserted', conversation: group });
    client.store.dispatch({
      type: 'messagesLoaded',
      conversationId: group.id,
      messages: [message(group.id, 1, gone, { body: '', deleted: true })],
      mode: 'initial',
      hasMore: false,
    });
    client.store.dispatch({ type: 'typing', conversationId: group.id, userId: gone.id, isTyping: true });
    withClient(client, <ChatWindow conversationId={group.id} />);
    expect(screen.getByText('Deleted user is typing', { exact: false })).toBeTruthy();
    expect(screen.getByLabelText('Message')).toBeTruthy();

    const stale = { ...group, members: [member(me), member(bob), member(gone)] }; // (a summary from before)
    const offered = mentionCandidates(stale, me.id, '', 10).map((c) => c.username);
    expect(offered).not.toContain(null);
    expect(offered).toContain('bob');
    expect(mentionCandidates(stale, me.id, 'del', 10)).toEqual([]);
  });

  it('member lists, connection lists and the conversation list show "Deleted user" without crashing', async () => {
    const gone = erased(bob);
    const pending: Connection = {
      id: 'c-1',
      requester: gone,
      addressee: me,
      status: 'pending',
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
    };
    const connected: Connection = { ...pending, id: 'c-2', requester: me, addressee: erased(carol), status: 'connected' };
    const { client, socket } = makeClient([pending, connected]);
    const group = summary([{ ...member(me), role: 'owner' }, member(gone)], { kind: 'group', title: 'Team', role: 'owner' });
    const direct = summary([member(me), member(gone)], { last_message: message('x', 3, gone, { body: '', deleted: true }) });
    client.store.dispatch({ type: 'conversationUpserted', conversation: group });
    client.store.dispatch({ type: 'conversationUpserted', conversation: direct });
    client.socket.start();
    socket.serverAccepts();
    await client.loadConnections();

    withClient(
      client,
      <>
        <ConversationList activeId={null} />
        <ConnectionsPanel />
        <GroupSettingsDialog conversationId={group.id} onClose={() => undefined} />
      </>,
    );
    const nav = screen.getByRole('navigation', { name: 'Conversations' });
    expect(within(nav).getByRole('link', { name: /Deleted user/ })).toBeTruthy();
    const dialog = screen.getByRole('dialog', { name: 'Group settings' });
    expect(within(within(dialog).getByRole('list', { name: 'Members' })).getByText('Deleted user')).toBeTruthy();
    expect(screen.getAllByText('Deleted user').length).toBeGreaterThanOrEqual(3);
    expect(document.body.textContent).not.toMatch(/@null|@undefined/);
    client.stop();
  });
});
