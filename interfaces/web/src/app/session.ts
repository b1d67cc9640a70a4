import type { SignedIn } from '../api/contract.gen';
import type { User } from '../api/types';

/** A signed-in session as kept in storage (shared by the tabs of one browser). */
export interface Session {
  token: string;
  user: User;
  /** Absent in sessions stored before refresh tokens: those end when their access token expires. */
  refreshToken?: string;
  /** When the access token expires (ms since the epoch), and how long it lived when issued (ms). */
  expiresAt?: number;
  ttlMs?: number;
}

const KEY = 'parley.session';
export const SESSION_KEY = KEY;

/** The session a sign-in, a refresh or a password change answered. */
export function sessionFrom(body: SignedIn, now: number = Date.now()): Session {
  return {
    token: body.access_token,
    user: body.user,
    refreshToken: body.refresh_token,
    expiresAt: now + body.expires_in * 1000,
    ttlMs: body.expires_in * 1000,
  };
}

export function parseSession(raw: string | null): Session | null {
  if (!raw) return null;
  try {
    const data = JSON.parse(raw) as Partial<Session>;
    if (typeof data.token !== 'string' || !data.user || typeof data.user.id !== 'string') return null;
    const session: Session = { token: data.token, user: data.user };
    if (typeof data.refreshToken === 'string') session.refreshToken = data.refreshToken;
    if (typeof data.expiresAt === 'number') session.expiresAt = data.expiresAt;
    if (typeof data.ttlMs === 'number') session.ttlMs = data.ttlMs;
    return session;
  } catch {
    return null;
  }
}

export function loadSession(storage: Storage = localStorage): Session | null {
  try {
    return parseSession(storage.getItem(KEY));
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
