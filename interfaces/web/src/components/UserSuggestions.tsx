import { useEffect, useMemo, useState } from 'react';
import { useChat } from '../app/context';
import type { User } from '../api/types';

type NamedUser = User & { username: string };

const SUGGEST_DELAY_MS = 250;

/**
 * Users whose username starts with `query` (GET /api/users?query=), fetched after a short pause. Until
 * the answer for the current query arrives, the last answer is shown, less the users it no longer fits
 * (derived here rather than cleared from the effect, which would render twice).
 */
export function useUserSuggestions(query: string): User[] {
  const client = useChat();
  const [users, setUsers] = useState<User[]>([]);
  const q = query.trim();
  useEffect(() => {
    if (q === '') return;
    let cancelled = false;
    const timer = setTimeout(() => {
      client.searchUsers(q).then(
        (found) => !cancelled && setUsers(found),
        () => !cancelled && setUsers([]),
      );
    }, SUGGEST_DELAY_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [client, q]);
  return useMemo(() => {
    const prefix = q.toLowerCase();
    return prefix === '' ? [] : users.filter((u) => u.username?.startsWith(prefix));
  }, [users, q]);
}

interface Props {
  users: User[];
  onPick: (username: string) => void;
}

/** Usernames to pick from under the Add connection field (a plain list, so the field stays a textbox). */
export function UserSuggestions({ users, onPick }: Props) {
  // An erased user has no username to pick (and is never found by one).
  const named = users.filter((u): u is NamedUser => u.username !== null);
  if (named.length === 0) return null;
  return (
    <ul className="suggestions" aria-label="Suggestions">
      {named.slice(0, 6).map((u) => (
        <li key={u.id}>
          <button
            type="button"
            className="suggestion"
            // keep focus in the field, so picking does not close the list first
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => onPick(u.username)}
          >
            @{u.username} <small>{u.display_name}</small>
          </button>
        </li>
      ))}
    </ul>
  );
}
