import { useEffect, useState } from 'react';
import { useChat } from '../app/context';
import type { User } from '../api/types';

const SUGGEST_DELAY_MS = 250;

/** Users whose username starts with `query` (GET /api/users?query=), fetched after a short pause. */
export function useUserSuggestions(query: string): User[] {
  const client = useChat();
  const [users, setUsers] = useState<User[]>([]);
  useEffect(() => {
    const q = query.trim();
    if (q === '') {
      setUsers([]);
      return;
    }
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
  }, [client, query]);
  return users;
}

interface Props {
  users: User[];
  onPick: (username: string) => void;
}

/** Usernames to pick from under the Add connection field (a plain list, so the field stays a textbox). */
export function UserSuggestions({ users, onPick }: Props) {
  if (users.length === 0) return null;
  return (
    <ul className="suggestions" aria-label="Suggestions">
      {users.slice(0, 6).map((u) => (
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
