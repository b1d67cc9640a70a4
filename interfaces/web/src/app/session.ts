import type { User } from '../api/types';

export interface Session {
  token: string;
  user: User;
}

const KEY = 'parley.session';

export function loadSession(storage: Storage = localStorage): Session | null {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return null;
    const data = JSON.parse(raw) as Partial<Session>;
    if (typeof data.token !== 'string' || !data.user || typeof data.user.id !== 'string') return null;
    return { token: data.token, user: data.user };
  } catch {
    return null;
  }
}

export function saveSession(session: Session, storage: Storage = localStorage): void {
  storage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(storage: Storage = localStorage): void {
  storage.removeItem(KEY);
}
