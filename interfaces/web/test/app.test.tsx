import { act, cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from './fakeSocket';
import { member, message, summary, user } from './fixtures';

const sockets: FakeSocket[] = [];
vi.mock('../src/socket/createSocket', () => ({
  createSocket: (token: string) => {
    const socket = new FakeSocket();
    (socket as FakeSocket & { token?: string }).token = token;
    sockets.push(socket);
    return socket;
  },
}));

const { App } = await import('../src/App');

const me = user('alice');
const bob = user('bob');

function jsonResponse(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

beforeEach(() => {
  sockets.length = 0;
  localStorage.clear();
  window.location.hash = '';
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('App', () => {
  it('restores the session, lists conversations and opens one from the list', async () => {
    localStorage.setItem('parley.session', JSON.stringify({ token: 'jwt-9', user: me }));
    vi.stubGlobal(
      'fetch',
      vi.fn((url: string) => {
        if (url === '/api/users/me') return Promise.resolve(jsonResponse(200, { user: me }));
        if (url === '/api/connections') return Promise.resolve(jsonResponse(200, { connections: [] }));
        return Promise.resolve(jsonResponse(404, { error: { code: 'not_found', message: 'nope' } }));
      }),
    );
    const c = summary([member(me), member(bob)], {
      last_message: message('x', 2, bob, { body: 'see you' }),
      last_message_at: '2024-01-01T12:00:00Z',
      unread_count: 2,
    });
    render(<App />);

    expect(sockets).toHaveLength(1);
    expect((sockets[0] as FakeSocket & { token?: string }).token).toBe('jwt-9');
    const socket = sockets[0];
    socket.responders.get_conversations = () => ({ ok: true, conversations: [c], next_cursor: null });
    socket.responders.join_conversation = () => ({ ok: true, conversation: c });
    socket.responders.get_messages = () => ({
      ok: true,
      messages: [message(c.id, 1, bob, { body: 'hi alice' }), message(c.id, 2, bob, { body: 'see you' })],
      has_more: false,
    });
    socket.responders.mark_as_delivered = () => ({ ok: true });
    socket.responders.mark_as_read = () => ({ ok: true, unread_count: 0 });
    await act(() => Promise.resolve(socket.serverAccepts()));

    expect(screen.getByRole('status', { name: 'Connection state' }).textContent).toBe('Connected');
    const nav = screen.getByRole('navigation', { name: 'Conversations' });
    expect(within(nav).getByLabelText('2 unread')).toBeTruthy();

    await userEvent.click(within(nav).getByRole('link', { name: /Bob/ }));
    const log = await screen.findByRole('log', { name: 'Messages' });
    expect(await within(log).findByText('hi alice')).toBeTruthy();
    expect(socket.sent('join_conversation')).toEqual([{ conversation_id: c.id }]);
    expect(socket.sent('mark_as_read')).toEqual([{ conversation_id: c.id, up_to_seq: 2 }]);
  });

  it('signs out when the stored token is refused', async () => {
    localStorage.setItem('parley.session', JSON.stringify({ token: 'old', user: me }));
    vi.stubGlobal(
      'fetch',
      vi.fn(() => Promise.resolve(jsonResponse(401, { error: { code: 'unauthorized', message: 'Token expired' } }))),
    );
    render(<App />);
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeTruthy();
    expect(localStorage.getItem('parley.session')).toBeNull();
  });
});
