import type { Connection, ConversationSummary, Member, User } from '../api/types';
import { peopleLists } from './connections';
import type { ChatState } from './types';

/** `until` of a mute without end (contract section 5: the `Mute` button). */
export const MUTE_FOREVER = '9999-12-31T23:59:59Z';

/** The caller's role in a conversation: the summary's own, else the one on their member entry; null once left. */
export function myRole(c: ConversationSummary | undefined, meId: string): Member['role'] | null {
  if (!c || c.left) return null;
  return c.role ?? c.members.find((m) => m.user.id === meId)?.role ?? null;
}

/** What the user may do in a group's settings (contract section 7); nothing in a direct conversation or once left. */
export interface GroupPermissions {
  addMembers: boolean;
  rename: boolean;
  leave: boolean;
  /** `Remove` next to this member. */
  remove: (member: Member) => boolean;
  /** `Make admin` next to this member. */
  makeAdmin: (member: Member) => boolean;
  /** `Make member` next to this admin (the owner takes an admin's role back). */
  makeMember: (member: Member) => boolean;
}

const nothing: GroupPermissions = {
  addMembers: false,
  rename: false,
  leave: false,
  remove: () => false,
  makeAdmin: () => false,
  makeMember: () => false,
};

export function groupPermissions(c: ConversationSummary | undefined, meId: string): GroupPermissions {
  if (!c || c.kind !== 'group' || c.left) return nothing;
  const role = myRole(c, meId);
  if (role === null) return nothing;
  const owner = role === 'owner';
  const moderator = owner || role === 'admin';
  const other = (m: Member) => m.user.id !== meId;
  return {
    addMembers: moderator,
    rename: moderator,
    leave: true,
    // the owner removes anyone else, an admin members only
    remove: (m) => other(m) && (owner ? m.role !== 'owner' : role === 'admin' && m.role === 'member'),
    makeAdmin: (m) => owner && other(m) && m.role === 'member',
    makeMember: (m) => owner && other(m) && m.role === 'admin',
  };
}

/** Connected users who are not current members: whom `Add members` offers. */
export function addableConnections(
  connections: Record<string, Connection>,
  c: ConversationSummary | undefined,
  meId: string,
): User[] {
  const members = new Set((c?.members ?? []).map((m) => m.user.id));
  return peopleLists(connections, meId)
    .connected.map(({ user }) => user)
    .filter((u) => !members.has(u.id));
}

/** Members in the order the settings list them: owner, admins, members, each by name. */
export function membersByRole(c: ConversationSummary | undefined): Member[] {
  const rank: Record<Member['role'], number> = { owner: 0, admin: 1, member: 2 };
  return [...(c?.members ?? [])].sort(
    (a, b) => rank[a.role] - rank[b.role] || a.user.display_name.localeCompare(b.user.display_name),
  );
}

/** A mute ends by itself at `muted_until` (without an event), so it is judged against the clock. */
export function isMuted(c: ConversationSummary | undefined, now: number = Date.now()): boolean {
  if (!c?.muted_until) return false;
  const until = Date.parse(c.muted_until);
  return Number.isNaN(until) || until > now;
}

/** The unread messages a conversation adds to the total in the page title (none while muted). */
export function unreadContribution(c: ConversationSummary | undefined, now: number = Date.now()): number {
  return c && !isMuted(c, now) ? c.unread_count : 0;
}

/** Sum of the unread counts of the conversations not muted (what `GET /api/unread` answers). */
export function unreadOfList(conversations: Record<string, ConversationSummary>, now: number = Date.now()): number {
  return Object.values(conversations).reduce((n, c) => n + unreadContribution(c, now), 0);
}

/** The earliest moment a mute of these conversations ends by itself (ms), if any ends within `horizonMs`. */
export function nextMuteEnd(
  conversations: Record<string, ConversationSummary>,
  now: number = Date.now(),
  horizonMs = 24 * 3600 * 1000,
): number | null {
  let next: number | null = null;
  for (const c of Object.values(conversations)) {
    if (!c.muted_until) continue;
    const until = Date.parse(c.muted_until);
    if (Number.isNaN(until) || until <= now || until - now > horizonMs) continue;
    if (next === null || until < next) next = until;
  }
  return next;
}

/**
 * The total unread of the page title: `GET /api/unread` until every page of the conversation list
 * is loaded, then the list's own sum, which live `conversation_updated` events keep current.
 */
export function totalUnread(state: ChatState, now: number = Date.now()): number {
  if (!state.listLoaded && state.unreadTotal !== null) return state.unreadTotal;
  return unreadOfList(state.conversations, now);
}

/** The page title: the total unread first when there is any. */
export function pageTitle(unread: number): string {
  return unread > 0 ? `(${unread > 999 ? '999+' : unread}) Parley` : 'Parley';
}
