import type { Connection, User } from '../api/types';

export interface PeopleLists {
  /** Pending requests made to me. */
  incoming: Connection[];
  /** Pending requests I made. */
  outgoing: Connection[];
  /** Users I am connected with. */
  connected: { connection: Connection; user: User }[];
}

export function otherParty(c: Connection, meId: string): User {
  return c.requester.id === meId ? c.addressee : c.requester;
}

export function peopleLists(connections: Record<string, Connection>, meId: string): PeopleLists {
  const all = Object.values(connections);
  const byName = (a: User, b: User) => a.display_name.localeCompare(b.display_name);
  return {
    incoming: all
      .filter((c) => c.status === 'pending' && c.addressee.id === meId)
      .sort((a, b) => byName(a.requester, b.requester)),
    outgoing: all
      .filter((c) => c.status === 'pending' && c.requester.id === meId)
      .sort((a, b) => byName(a.addressee, b.addressee)),
    connected: all
      .filter((c) => c.status === 'connected')
      .map((connection) => ({ connection, user: otherParty(connection, meId) }))
      .sort((a, b) => byName(a.user, b.user)),
  };
}
