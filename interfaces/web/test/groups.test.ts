import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Api } from '../src/api/http';
import type { Connection, Member, User } from '../src/api/types';
import { ChatClient } from '../src/app/chatClient';
import {
  MUTE_FOREVER,
  addableConnections,
  groupPermissions,
  isMuted,
  membersByRole,
  nextMuteEnd,
  pageTitle,
  totalUnread,
} from '../src/state/groups';
import { initialState, reducer } from '../src/state/reducer';
import { FakeSocket } from './fakeSocket';
import { member, summary, user } from './fixtures';

const me = user('alice');
const bob = user('bob');
const carol = user('carol');
const dave = user('dave');

const as = (u: User, role: Member['role']): Member => ({ ...member(u), role });

function connection(a: User, b: User, status: Connection['status'] = 'connected'): Connection {
  return { id: `conn-${a.id}-${b.id}`, requester: a, addressee: b, status, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z' };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('group permissions (contract section 7)', () => {
  const members = [as(me, 'owner'), as(bob, 'admin'), as(carol, 'member')];

  it('the owner renames, adds, removes anyone else and makes members admins', () => {
    const can = groupPermissions(summary(members, { role: 'owner' }), me.id);
    expect([can.rename, can.addMembers, can.leave]).toEqual([true, true, true]);
    expect(members.map(can.remove)).toEqual([false, true, true]);
    expect(members.map(can.makeAdmin)).toEqual([false, false, true]);
    expect(members.map(can.makeMember)).toEqual([false, true, false]);
  });

  it('an admin renames, adds and removes members only; roles are the owner’s', () => {
    const can = groupPermissions(summary([as(bob, 'owner'), as(me, 'admin'), as(carol, 'admin'), as(dave, 'member')], { role: 'admin' }), me.id);
    expect([can.rename, can.addMembers, can.leave]).toEqual([true, true, true]);
    const shown = [as(bob, 'owner'), as(me, 'admin'), as(carol, 'admin'), as(dave, 'member')];
    expect(shown.map(can.remove)).toEqual([false, false, false, true]);
    expect(shown.map(can.makeAdmin)).toEqual([false, false, false, false]);
  });

  it('a member may only leave', () => {
    const can = groupPermissions(summary([as(bob, 'owner'), as(me, 'member'), as(carol, 'member')], { role: 'member' }), me.id);
    expect([can.rename, can.addMembers, can.leave]).toEqual([false, false, true]);
    expect([as(bob, 'owner'), as(carol, 'member')].map(can.remove)).toEqual([false, false]);
  });

  it('the role on the member entry counts when the summary has none', () => {
    const can = groupPermissions(summary([as(me, 'owner'), as(bob, 'member'), as(carol, 'member')], { role: null }), me.id);
    expect(can.rename).toBe(true);
  });

  it('nothing in a direct conversation or once the user left', () => {
    const direct = groupPermissions(summary([member(me), member(bob)]), me.id);
    expect([direct.rename, direct.addMembers, direct.leave]).toEqual([false, false, false]);
    const left = groupPermissions(summary([as(bob, 'owner'), as(carol, 'member'), as(dave, 'member')], { role: null, left: true }), me.id);
    expect([left.rename, left.addMembers, left.leave]).toEqual([false, false, false]);
  });

  it('Add members offers connected users who are not members yet', () => {
    const group = summary([as(me, 'owner'), as(bob, 'member'), as(carol, 'member')]);
    const connections = Object.fromEntries(
      [connection(me, bob), connection(dave, me), connection(me, user('erin'), 'pending')].map((c) => [c.id, c]),
    );
    expect(addableConnections(connections, group, me.id).map((u) => u.username)).toEqual(['dave']);
  });

  it('members are listed owner first, then admins, then members, by name', () => {
    const group = summary([as(carol, 'member'), as(me, 'admin'), as(dave, 'owner'), as(bob, 'member')]);
    expect(membersByRole(group).map((m) => m.user.username)).toEqual(['dave', 'alice', 'bob', 'carol']);
  });
});

describe('mutes and the total unread of the page title (section 8)', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');

  it('a mute lasts until muted_until, then ends by itself', () => {
    expect(isMuted(summary([member(me), member(bob)], { muted_until: MUTE_FOREVER }), now)).toBe(true);
    expect(isMuted(summary([member(me), member(bob)], { muted_until: '2025-06-01T12:30:00Z' }), now)).toBe(true);
    expect(isMuted(summary([member(me), member(bob)], { muted_until: '2025-06-01T11:59:59Z' }), now)).toBe(false);
    expect(isMuted(summary([member(me), member(bob)], { muted_until: null }), now)).toBe(false);
  });

  it('the total leaves muted conversations out and takes GET /api/unread until the list is loaded', () => {
    const a = summary([member(me), member(bob)], { unread_count: 2 });
    const b = summary([member(me), member(carol)], { unread_count: 5, muted_until: MUTE_FOREVER });
    const c = summary([member(me), member(dave)], { unread_count: 1, muted_until: '2025-06-01T11:00:00Z' });
    let state = reducer(initialState(me), { type: 'unreadLoaded', unread: 7 });
    expect(totalUnread(state, now)).toBe(7);
    state = reducer(state, { type: 'conversationsLoaded', conversations: [a, b, c] });
    expect(totalUnread(state, now)).toBe(7); // a first page: the server's total still
    state = reducer(state, { type: 'listLoaded', loaded: true });
    expect(totalUnread(state, now)).toBe(3);
    // a live update: another message in the muted one changes nothing, one in the other adds one
    state = reducer(state, { type: 'conversationUpserted', conversation: { ...b, unread_count: 6 } });
    state = reducer(state, { type: 'conversationUpserted', conversation: { ...a, unread_count: 3 } });
    expect(totalUnread(state, now)).toBe(4);
    // reading it (mark_as_read's ack) takes its count out
    state = reducer(state, { type: 'unreadSet', conversationId: a.id, unread: 0 });
    expect(totalUnread(state, now)).toBe(1);
  });

  it('without GET /api/unread the total comes from the list', () => {
    const a = summary([member(me), member(bob)], { unread_count: 2 });
    const state = reducer(initialState(me), { type: 'conversationsLoaded', conversations: [a] });
    expect(totalUnread(state, now)).toBe(2);
  });

  it('the next mute to end within a day is found, so the title can count it again then', () => {
    const soon = summary([member(me), member(bob)], { muted_until: '2025-06-01T12:10:00Z' });
    const later = summary([member(me), member(carol)], { muted_until: '2025-06-01T13:00:00Z' });
    const forever = summary([member(me), member(dave)], { muted_until: MUTE_FOREVER });
    const byId = Object.fromEntries([soon, later, forever].map((c) => [c.id, c]));
    expect(nextMuteEnd(byId, now)).toBe(Date.parse('2025-06-01T12:10:00Z'));
    expect(nextMuteEnd({ [forever.id]: forever }, now)).toBeNull();
  });

  it('the title shows the count first, only when there is one', () => {
    expect(pageTitle(0)).toBe('Parley');
    expect(pageTitle(4)).toBe('(4) Parley');
    expect(pageTitle(1500)).toBe('(999+) Parley');
  });
});

function blockingApi(calls: string[]): Api {
  let blocked: User[] = [];
  return {
    listConnections: () => Promise.resolve({ connections: [] }),
    unread: () => Promise.resolve({ unread_count: 4, mention_count: 1 }),
    listBlocked: () => Promise.resolve({ blocked }),
    block: (_token: string, id: string) => {
      calls.push(`block ${id}`);
      blocked = [bob, ...blocked];
      return Promise.resolve({ blocked });
    },
    unblock: (_token: string, id: string) => {
      calls.push(`unblock ${id}`);
      blocked = blocked.filter((u) => u.id !== id);
      return Promise.resolve({ blocked });
    },
  } as unknown as Api;
}

async function setup(api: Api) {
  const socket = new FakeSocket();
  const group = summary([as(me, 'owner'), as(bob, 'member'), as(carol, 'member')], { role: 'owner', title: 'Team' });
  socket.responders.get_conversations = () => ({ ok: true, conversations: [group], next_cursor: null });
  const client = new ChatClient({ token: 't', me, onUnauthorized: vi.fn(), createSocket: () => socket, api, isVisible: () => false });
  client.start();
  socket.serverAccepts();
  await client.socket.whenSynced();
  return { socket, client, group };
}

describe('ChatClient: groups, mutes and blocks', () => {
  it('a group change sends its event and stores the summary of the ack', async () => {
    const { socket, client, group } = await setup(blockingApi([]));
    const added = { ...group, members: [...group.members, as(dave, 'member')] };
    socket.responders.add_members = () => ({ ok: true, conversation: added });
    await client.addMembers(group.id, [dave.id]);
    expect(socket.sent('add_members')).toEqual([{ conversation_id: group.id, user_ids: [dave.id] }]);
    expect(client.store.getState().conversations[group.id].members.map((m) => m.user.id)).toContain(dave.id);

    socket.responders.rename_conversation = (p) => ({ ok: true, conversation: { ...added, title: p.title } });
    await client.renameConversation(group.id, 'Crew');
    expect(client.store.getState().conversations[group.id].title).toBe('Crew');

    socket.responders.set_member_role = () => ({ ok: true, conversation: added });
    await client.setMemberRole(group.id, carol.id, 'admin');
    expect(socket.sent('set_member_role')).toEqual([{ conversation_id: group.id, user_id: carol.id, role: 'admin' }]);

    socket.responders.remove_member = () => ({ ok: true, conversation: group });
    await client.removeMember(group.id, dave.id);
    expect(socket.sent('remove_member')).toEqual([{ conversation_id: group.id, user_id: dave.id }]);

    socket.responders.leave_group = () => ({ ok: true, conversation: { ...group, left: true, role: null } });
    await client.leaveGroup(group.id);
    expect(client.store.getState().conversations[group.id].left).toBe(true);
  });

  it('a refused change throws the server’s message and changes nothing', async () => {
    const { socket, client, group } = await setup(blockingApi([]));
    socket.responders.remove_member = () => ({ ok: false, error: { code: 'forbidden', message: 'Only the owner or an admin can do that.' } });
    await expect(client.removeMember(group.id, bob.id)).rejects.toThrow('Only the owner or an admin can do that.');
    expect(client.store.getState().conversations[group.id]).toEqual(group);
  });

  it('Mute sends until 9999-12-31T23:59:59Z, Unmute null', async () => {
    const { socket, client, group } = await setup(blockingApi([]));
    socket.responders.mute_conversation = (p) => ({ ok: true, conversation: { ...group, muted_until: p.until ?? null } });
    await client.setMuted(group.id, true);
    expect(isMuted(client.store.getState().conversations[group.id])).toBe(true);
    await client.setMuted(group.id, false);
    expect(socket.sent('mute_conversation')).toEqual([
      { conversation_id: group.id, until: '9999-12-31T23:59:59Z' },
      { conversation_id: group.id, until: null },
    ]);
    expect(isMuted(client.store.getState().conversations[group.id])).toBe(false);
  });

  it('loads the total unread and the blocked users; Block and Unblock keep the list', async () => {
    const calls: string[] = [];
    const { client } = await setup(blockingApi(calls));
    await vi.waitFor(() => expect(client.store.getState().unreadTotal).toBe(4));
    // every page of the list arrived after connecting: the title's total comes from it from now on
    expect(client.store.getState().listLoaded).toBe(true);
    expect(totalUnread(client.store.getState())).toBe(0);
    expect(client.store.getState().blocked).toEqual([]);
    await client.block(bob.id);
    expect(client.store.getState().blocked?.map((u) => u.id)).toEqual([bob.id]);
    await client.unblock(bob.id);
    expect(client.store.getState().blocked).toEqual([]);
    expect(calls).toEqual([`block ${bob.id}`, `unblock ${bob.id}`]);
  });
});
