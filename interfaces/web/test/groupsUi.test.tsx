import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Api } from '../src/api/http';
import type { Connection, Member, SystemChange, User } from '../src/api/types';
import { ChatClient } from '../src/app/chatClient';
import { ChatContext } from '../src/app/context';
import { ChatWindow } from '../src/components/ChatWindow';
import { ConversationList } from '../src/components/ConversationList';
import { SettingsPage } from '../src/components/SettingsPage';
import { MUTE_FOREVER } from '../src/state/groups';
import { FakeSocket } from './fakeSocket';
import { member, message, summary, user } from './fixtures';

const me = user('alice');
const bob = user('bob');
const carol = user('carol');
const dave = user('dave');

const as = (u: User, role: Member['role']): Member => ({ ...member(u), role });

const started: ChatClient[] = [];

afterEach(() => {
  cleanup();
  for (const client of started.splice(0)) client.socket.stop();
});

/** Connects the client's (fake) socket, so that its requests get the responders' acks. */
function goOnline(client: ChatClient, socket: FakeSocket) {
  socket.responders.get_conversations ??= () => ({ ok: true, conversations: [], next_cursor: null });
  client.socket.start();
  socket.serverAccepts();
  started.push(client);
}

function makeClient(api: Partial<Api> = {}) {
  const socket = new FakeSocket();
  const full = {
    listConnections: () => Promise.resolve({ connections: [] }),
    listBlocked: () => Promise.resolve({ blocked: [] }),
    ...api,
  } as unknown as Api;
  const client = new ChatClient({ token: 't', me, onUnauthorized: vi.fn(), createSocket: () => socket, api: full, isVisible: () => false });
  return { client, socket };
}

function withClient(client: ChatClient, ui: ReactNode) {
  return render(<ChatContext.Provider value={client}>{ui}</ChatContext.Provider>);
}

function connected(other: User): Connection {
  return { id: `c-${other.id}`, requester: me, addressee: other, status: 'connected', created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z' };
}

describe('Group settings', () => {
  it('the owner gets Rename, Add members (connections not in the group), Remove and Make admin', async () => {
    const { client, socket } = makeClient({
      listConnections: () => Promise.resolve({ connections: [connected(bob), connected(dave)] }),
    });
    const group = summary([as(me, 'owner'), as(bob, 'admin'), as(carol, 'member')], { role: 'owner', title: 'Team' });
    client.store.dispatch({ type: 'conversationUpserted', conversation: group });
    socket.responders.add_members = (p) => ({
      ok: true,
      conversation: { ...group, members: [...group.members, ...p.user_ids.map((id) => as(id === dave.id ? dave : bob, 'member'))] },
    });
    goOnline(client, socket);
    withClient(client, <ChatWindow conversationId={group.id} />);

    await client.socket.whenSynced();
    await vi.waitFor(() => expect(Object.keys(client.store.getState().connections)).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'Group settings' }));
    const dialog = screen.getByRole('dialog', { name: 'Group settings' });
    expect(within(dialog).getByRole('button', { name: 'Rename' })).toBeTruthy();
    expect(within(dialog).getByRole('button', { name: 'Leave group' })).toBeTruthy();
    const members = within(within(dialog).getByRole('list', { name: 'Members' })).getAllByRole('listitem');
    const buttons = members.map((li) => within(li).queryAllByRole('button').map((b) => b.textContent));
    expect(buttons).toEqual([[], ['Make member', 'Remove'], ['Make admin', 'Remove']]);

    // only Dave is offered (Bob is a member already)
    const offered = within(dialog).getAllByRole('checkbox');
    expect(offered).toHaveLength(1);
    await userEvent.click(within(dialog).getByRole('checkbox', { name: /Dave/ }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Add members' }));
    expect(socket.sent('add_members')).toEqual([{ conversation_id: group.id, user_ids: [dave.id] }]);
    expect(await within(dialog).findByText('Dave')).toBeTruthy();
  }, 20_000); // many clicks in a large dialog: slow on a busy machine

  it('a member sees only Leave group; a refusal is shown as an alert', async () => {
    const { client, socket } = makeClient();
    const group = summary([as(bob, 'owner'), as(me, 'member'), as(carol, 'member')], { role: 'member', title: 'Team' });
    client.store.dispatch({ type: 'conversationUpserted', conversation: group });
    socket.responders.leave_group = () => ({ ok: false, error: { code: 'invalid_state', message: 'Not now.' } });
    goOnline(client, socket);
    withClient(client, <ChatWindow conversationId={group.id} />);

    await userEvent.click(screen.getByRole('button', { name: 'Group settings' }));
    const dialog = screen.getByRole('dialog', { name: 'Group settings' });
    expect(within(dialog).queryByRole('button', { name: 'Rename' })).toBeNull();
    expect(within(dialog).queryByRole('button', { name: 'Add members' })).toBeNull();
    expect(within(dialog).queryByRole('button', { name: 'Remove' })).toBeNull();
    expect(within(dialog).queryByRole('button', { name: 'Make admin' })).toBeNull();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Leave group' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe('Not now.');
  });

  it('a conversation the user left is read-only: no composer, no actions, no Group settings', () => {
    const { client } = makeClient();
    const group = summary([as(bob, 'owner'), as(carol, 'member'), as(dave, 'member')], {
      role: null,
      left: true,
      title: 'Team',
      former_members: [me],
    });
    client.store.dispatch({ type: 'conversationUpserted', conversation: group });
    client.store.dispatch({
      type: 'messagesLoaded',
      conversationId: group.id,
      messages: [
        message(group.id, 1, bob, { body: 'hello all' }),
        message(group.id, 2, me, {
          kind: 'system',
          body: '',
          system: { type: 'member_left', actor_id: me.id, user_ids: [me.id], title: null, role: null },
        }),
      ],
      mode: 'initial',
      hasMore: false,
    });
    withClient(client, <ChatWindow conversationId={group.id} />);

    const log = screen.getByRole('log', { name: 'Messages' });
    expect(within(log).getByText('hello all')).toBeTruthy();
    expect(within(log).getByText('Alice left')).toBeTruthy();
    expect(screen.queryByLabelText('Message')).toBeNull();
    expect(screen.queryByRole('button', { name: 'More actions' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Group settings' })).toBeNull();
    expect(screen.getByText(/no longer a member/)).toBeTruthy();
  });
});

describe('system messages', () => {
  it('are centred notices naming who did what', () => {
    const { client } = makeClient();
    const group = summary([as(me, 'owner'), as(bob, 'member'), as(carol, 'member')], { role: 'owner', title: 'Crew' });
    client.store.dispatch({ type: 'conversationUpserted', conversation: group });
    const change = (seq: number, system: SystemChange) =>
      message(group.id, seq, me, { kind: 'system', body: '', system });
    client.store.dispatch({
      type: 'messagesLoaded',
      conversationId: group.id,
      messages: [
        change(1, { type: 'member_added', actor_id: me.id, user_ids: [bob.id, carol.id], title: null, role: null }),
        change(2, { type: 'renamed', actor_id: me.id, user_ids: [], title: 'Crew', role: null }),
        change(3, { type: 'role_changed', actor_id: me.id, user_ids: [bob.id], title: null, role: 'admin' }),
        change(4, { type: 'member_removed', actor_id: me.id, user_ids: [carol.id], title: null, role: null }),
      ],
      mode: 'initial',
      hasMore: false,
    });
    withClient(client, <ChatWindow conversationId={group.id} />);
    const log = screen.getByRole('log', { name: 'Messages' });
    expect(within(log).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Alice added Bob and Carol',
      'Alice renamed the group to “Crew”',
      'Alice made Bob an admin',
      'Alice removed Carol',
    ]);
  });
});

describe('Mute', () => {
  it('the header toggles Mute and Unmute; the list shows the muted look', async () => {
    const { client, socket } = makeClient();
    const direct = summary([member(me), member(bob)], { unread_count: 2 });
    client.store.dispatch({ type: 'conversationUpserted', conversation: direct });
    socket.responders.mute_conversation = (p) => ({ ok: true, conversation: { ...direct, muted_until: p.until ?? null } });
    goOnline(client, socket);
    withClient(
      client,
      <>
        <ConversationList activeId={direct.id} />
        <ChatWindow conversationId={direct.id} />
      </>,
    );
    const nav = screen.getByRole('navigation', { name: 'Conversations' });
    expect(within(nav).queryByRole('img', { name: 'Muted' })).toBeNull();

    await userEvent.click(screen.getByRole('button', { name: 'Mute' }));
    expect(await screen.findByRole('button', { name: 'Unmute' })).toBeTruthy();
    expect(within(nav).getByRole('img', { name: 'Muted' })).toBeTruthy();
    expect(within(nav).getByRole('img', { name: '2 unread' })).toBeTruthy(); // still counted, shown dimmed

    await userEvent.click(screen.getByRole('button', { name: 'Unmute' }));
    expect(await screen.findByRole('button', { name: 'Mute' })).toBeTruthy();
    expect(within(nav).queryByRole('img', { name: 'Muted' })).toBeNull();
    expect(socket.sent('mute_conversation').map((p) => p.until)).toEqual([MUTE_FOREVER, null]);
  });
});

describe('Settings', () => {
  it('lists the blocked users, each with Unblock', async () => {
    let blocked = [carol, bob];
    const unblock = vi.fn((_token: string, id: string) => {
      blocked = blocked.filter((u) => u.id !== id);
      return Promise.resolve({ blocked });
    });
    const { client } = makeClient({ listBlocked: () => Promise.resolve({ blocked }), unblock });
    withClient(client, <SettingsPage />);

    const list = await screen.findByRole('list', { name: 'Blocked users' });
    expect(within(list).getAllByRole('listitem').map((li) => li.querySelector('.person-name')?.firstChild?.textContent)).toEqual([
      'Carol',
      'Bob',
    ]);
    await userEvent.click(within(within(list).getAllByRole('listitem')[0]).getByRole('button', { name: 'Unblock' }));
    expect(unblock).toHaveBeenCalledWith('t', carol.id);
    await vi.waitFor(() => expect(within(screen.getByRole('list', { name: 'Blocked users' })).getAllByRole('listitem')).toHaveLength(1));
  });
});
