import { api as defaultApi, ApiError, isTokenRefused, type Api } from '../api/http';
import { clearSession, loadSession, saveSession, SESSION_KEY, parseSession, sessionFrom, type Session } from './session';

/** Renew this long before the access token expires: a third of its life, at most a minute. */
export function renewalLeadMs(ttlMs: number): number {
  return Math.min(60_000, ttlMs / 3);
}

/** After a renewal that could not reach the server, try again this much later (doubling, capped). */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
const LOCK_NAME = 'parley.session.renew';

export interface SessionKeeperOptions {
  api?: Pick<Api, 'refresh' | 'logout'>;
  storage?: Storage;
  now?: () => number;
  /** The Web Locks API (one renewal at a time across the tabs of a browser); absent: this tab alone. */
  locks?: Pick<LockManager, 'request'> | null;
  /** The session ended (refused by the server, signed out here or in another tab). */
  onSignedOut: (message?: string) => void;
  /** A new access token (renewed here or by another tab). */
  onRenewed?: (session: Session) => void;
}

/**
 * Keeps a signed-in session alive: renews the access token with the refresh token before it expires
 * (and once after a refusal), one renewal at a time, across tabs too: the refresh token rotates, and
 * presenting a rotated one ends the whole session on the server. Another tab's renewal is adopted from
 * storage, never repeated. Only a refusal by the server signs out; a network failure is retried.
 */
let signIns = 0;

export class SessionKeeper {
  /** Different for each sign-in (a React key: one chat client per sign-in, not per token). */
  readonly key = `sign-in-${++signIns}`;
  private session: Session;
  private readonly api: Pick<Api, 'refresh' | 'logout'>;
  private readonly storage: Storage;
  private readonly now: () => number;
  private readonly locks: Pick<LockManager, 'request'> | null;
  private readonly opts: SessionKeeperOptions;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<string | null> | null = null;
  private retryMs = RETRY_MIN_MS;
  private ended = false;
  /** An erasure of the account is awaiting the server's answer (see erase). */
  private erasing = false;
  /** A sign-out that came while erasing: it happens once the answer has come. */
  private endDeferred: { message?: string } | null = null;

  constructor(session: Session, opts: SessionKeeperOptions) {
    this.session = session;
    this.opts = opts;
    this.api = opts.api ?? defaultApi;
    this.storage = opts.storage ?? localStorage;
    this.now = opts.now ?? Date.now;
    this.locks = opts.locks !== undefined ? opts.locks : (globalThis.navigator?.locks ?? null);
  }

  get token(): string {
    return this.session.token;
  }

  get current(): Session {
    return this.session;
  }

  start(): void {
    this.ended = false;
    window.addEventListener('storage', this.onStorage);
    this.schedule();
  }

  stop(): void {
    this.ended = true;
    window.removeEventListener('storage', this.onStorage);
    this.clearTimer();
  }

  /** A new access token; null when the session has ended (refused by the server: signed out);
   * rejects with the ApiError when the server could not be reached (the renewal is tried again later). */
  renew(): Promise<string | null> {
    if (this.ended || this.endDeferred) return Promise.resolve(null);
    if (!this.inFlight) {
      const seen = this.session.token;
      const run = () => this.renewOnce(seen);
      // (the lock is held until run's promise settles; lib.dom types the answer as a nested promise)
      const renewal = this.locks ? (this.locks.request(LOCK_NAME, run) as unknown as Promise<string | null>) : run();
      this.inFlight = renewal.finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  /** `call` with the access token; after the token is refused (a 401 other than `invalid_credentials`),
   * renews once and calls again with the new token. */
  async withToken<T>(call: (token: string) => Promise<T>): Promise<T> {
    const token = this.session.token;
    try {
      return await call(token);
    } catch (err) {
      if (!isTokenRefused(err) || this.ended) throw err;
      let renewed: string | null;
      try {
        renewed = this.session.token !== token ? this.session.token : await this.renew();
      } catch {
        throw err;
      }
      if (renewed === null) throw err;
      return call(renewed);
    }
  }

  /** Ends this session on the server (or every session of the user), then here. */
  async signOut(everywhere = false): Promise<void> {
    try {
      await this.withToken((token) => this.api.logout(token, everywhere));
    } catch {
      // Signed out here all the same: the server's session then ends with its refresh token's expiry.
    }
    this.end();
  }

  /**
   * Erases the account with `call` (`DELETE /api/users/me`), then signs out with `message`. The server
   * ends every session of the account before it answers, and answers only once the erasure is complete
   * (which may take a while): a sign-out meanwhile (the socket it disconnected is refused on reconnecting,
   * a renewal is refused) waits for the answer, so that it neither comes first nor repeats. Rejects with
   * the server's refusal (a wrong password: `invalid_credentials`); a sign-out that waited happens then.
   */
  async erase(call: (token: string) => Promise<unknown>, message: string): Promise<void> {
    this.erasing = true;
    try {
      await this.withToken(call);
    } catch (err) {
      this.erasing = false;
      const deferred = this.endDeferred;
      this.endDeferred = null;
      if (deferred) this.end(deferred.message);
      throw err;
    }
    this.erasing = false;
    this.endDeferred = null;
    this.end(message);
  }

  /** Adopts a session answered by the server for this one (a password change). */
  adopt(session: Session): void {
    this.use(session);
  }

  private async renewOnce(seen: string): Promise<string | null> {
    // Another tab may have renewed while this one waited for the lock: use its tokens.
    const stored = loadSession(this.storage);
    if (!stored || stored.user.id !== this.session.user.id) {
      this.end('You were signed out.');
      return null;
    }
    if (stored.token !== seen && stored.refreshToken) {
      this.use(stored);
      return stored.token;
    }
    const refreshToken = stored.refreshToken ?? this.session.refreshToken;
    if (!refreshToken) {
      this.end('Your session has expired. Please sign in again.');
      return null;
    }
    try {
      const body = await this.api.refresh(refreshToken);
      this.retryMs = RETRY_MIN_MS;
      this.use(sessionFrom(body, this.now()));
      return this.session.token;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        this.end(err.message || 'Your session has ended. Please sign in again.');
        return null;
      }
      this.scheduleIn(this.retryMs); // unreachable for now: the access token may still be good
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      throw err;
    }
  }

  private use(session: Session): void {
    this.session = session;
    if (this.ended) return;
    saveSession(session, this.storage);
    this.opts.onRenewed?.(session);
    this.schedule();
  }

  /** Forgets the session here (stops renewing, clears storage: other tabs sign out too) and signs out,
   * without asking the server: for a session that ended there (the account was erased). */
  end(message?: string): void {
    if (this.ended) return;
    if (this.erasing) {
      this.endDeferred ??= { message };
      this.clearTimer();
      return;
    }
    this.stop();
    clearSession(this.storage);
    this.opts.onSignedOut(message);
  }

  private schedule(): void {
    const { expiresAt, ttlMs, refreshToken } = this.session;
    if (expiresAt === undefined || ttlMs === undefined || !refreshToken) return;
    this.scheduleIn(expiresAt - renewalLeadMs(ttlMs) - this.now());
  }

  private scheduleIn(ms: number): void {
    this.clearTimer();
    if (this.ended || this.endDeferred) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.renew().catch(() => undefined); // (tried again by then: see renewOnce)
    }, Math.max(0, ms));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Another tab renewed (adopt its tokens) or signed out (sign out here too). */
  private readonly onStorage = (event: StorageEvent) => {
    if (event.key !== SESSION_KEY && event.key !== null) return;
    const stored = parseSession(event.key === null ? null : event.newValue);
    if (!stored || stored.user.id !== this.session.user.id) {
      this.end('You were signed out.');
      return;
    }
    if (stored.token !== this.session.token) {
      this.session = stored;
      this.opts.onRenewed?.(stored);
      this.schedule();
    }
  };
}
