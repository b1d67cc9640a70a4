import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/http';
import type { SignedIn } from '../src/api/contract.gen';
import { loadSession, saveSession, SESSION_KEY, type Session } from '../src/app/session';
import { renewalLeadMs, SessionKeeper } from '../src/app/sessionKeeper';
import { SocketService } from '../src/socket/socketService';
import { createChatStore } from '../src/state/store';
import { FakeSocket } from './fakeSocket';
import { user } from './fixtures';

const me = user('alice');
const TTL_S = 3;

function session(token: string, refreshToken: string, now = Date.now()): Session {
  return { token, user: me, refreshToken, expiresAt: now + TTL_S * 1000, ttlMs: TTL_S * 1000 };
}

function signedIn(n: number): SignedIn {
  return {
    access_token: `access-${n}`,
    token_type: 'bearer',
    expires_in: TTL_S,
    refresh_token: `refresh-${n}`,
    refresh_expires_in: 2592000,
    user: me,
  };
}

function setup(first = session('access-0', 'refresh-0')) {
  let issued = 0;
  const refresh = vi.fn((_token: string) => Promise.resolve(signedIn(++issued)));
  const logout = vi.fn((_token: string, _everywhere?: boolean) => Promise.resolve({}));
  const onSignedOut = vi.fn();
  const onRenewed = vi.fn();
  saveSession(first);
  const keeper = new SessionKeeper(first, { api: { refresh, logout }, locks: null, onSignedOut, onRenewed });
  return { keeper, refresh, logout, onSignedOut, onRenewed };
}

beforeEach(() => {
  localStorage.clear();
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SessionKeeper', () => {
  it('renews a third of the way before expiry, at most a minute before', () => {
    expect(renewalLeadMs(3000)).toBe(1000);
    expect(renewalLeadMs(3_600_000)).toBe(60_000);
  });

  it('renews before the access token expires, again and again, keeping each rotated token', async () => {
    const { keeper, refresh, onSignedOut, onRenewed } = setup();
    keeper.start();
    await vi.advanceTimersByTimeAsync(1999);
    expect(refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(refresh).toHaveBeenCalledWith('refresh-0');
    expect(keeper.token).toBe('access-1');
    expect(loadSession()?.refreshToken).toBe('refresh-1');
    expect(onRenewed).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2000 * 5);
    expect(refresh.mock.calls.map(([token]) => token)).toEqual([
      'refresh-0',
      'refresh-1',
      'refresh-2',
      'refresh-3',
      'refresh-4',
      'refresh-5',
    ]);
    expect(keeper.token).toBe('access-6');
    expect(onSignedOut).not.toHaveBeenCalled();
    keeper.stop();
  });

  it('makes one renewal of concurrent requests for one (a rotated token must not be presented twice)', async () => {
    const { keeper, refresh } = setup();
    const [a, b] = await Promise.all([keeper.renew(), keeper.renew()]);
    expect(a).toBe('access-1');
    expect(b).toBe('access-1');
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('renews once after a 401 and repeats the call with the new token', async () => {
    const { keeper, refresh } = setup();
    const call = vi.fn((token: string) =>
      token === 'access-0' ? Promise.reject(new ApiError(401, 'unauthorized', 'expired')) : Promise.resolve(token),
    );
    await expect(keeper.withToken(call)).resolves.toBe('access-1');
    expect(call.mock.calls.map(([token]) => token)).toEqual(['access-0', 'access-1']);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('signs out when the server refuses the refresh token', async () => {
    const { keeper, refresh, onSignedOut } = setup();
    refresh.mockImplementationOnce(() => Promise.reject(new ApiError(401, 'unauthorized', 'Session ended')));
    keeper.start();
    await expect(keeper.renew()).resolves.toBeNull();
    expect(onSignedOut).toHaveBeenCalledWith('Session ended');
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
  });

  it('does not sign out while the server cannot be reached, and tries again', async () => {
    const { keeper, refresh, onSignedOut } = setup();
    refresh.mockImplementationOnce(() => Promise.reject(new ApiError(0, 'network_error', 'offline')));
    keeper.start();
    await expect(keeper.renew()).rejects.toThrow('offline');
    expect(onSignedOut).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(refresh).toHaveBeenCalledTimes(2);
    expect(keeper.token).toBe('access-1');
    keeper.stop();
  });

  it('adopts the tokens another tab renewed instead of presenting the rotated refresh token', async () => {
    const { keeper, refresh, onRenewed } = setup();
    saveSession(session('access-tab', 'refresh-tab')); // the other tab rotated refresh-0 away
    await expect(keeper.renew()).resolves.toBe('access-tab');
    expect(refresh).not.toHaveBeenCalled();
    expect(onRenewed).toHaveBeenCalled();
  });

  it('follows another tab: its renewal through storage events, and its sign-out', () => {
    const { keeper, onSignedOut } = setup();
    keeper.start();
    const renewed = JSON.stringify(session('access-tab', 'refresh-tab'));
    window.dispatchEvent(new StorageEvent('storage', { key: SESSION_KEY, newValue: renewed }));
    expect(keeper.token).toBe('access-tab');
    window.dispatchEvent(new StorageEvent('storage', { key: SESSION_KEY, newValue: null }));
    expect(onSignedOut).toHaveBeenCalled();
  });

  it('signs out on the server, then here (everywhere when asked)', async () => {
    const { keeper, logout, onSignedOut } = setup();
    keeper.start();
    await keeper.signOut(true);
    expect(logout).toHaveBeenCalledWith('access-0', true);
    expect(onSignedOut).toHaveBeenCalled();
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
  });
});

describe('SocketService with renewal', () => {
  function service(renew: () => Promise<string | null>) {
    const store = createChatStore(me);
    const socket = new FakeSocket();
    const onUnauthorized = vi.fn();
    const factory = vi.fn((_token: string, _current?: () => string) => socket);
    const s = new SocketService({ token: 'access-0', store, createSocket: factory, onUnauthorized, renew, currentToken: () => 'now' });
    return { store, socket, s, onUnauthorized, factory };
  }
  const refusal = () => Object.assign(new Error('refused'), { data: { code: 'unauthorized', message: 'Token expired' } });

  it('asks for the current token at each connect, renews once after a refusal and connects again', async () => {
    const renew = vi.fn(() => Promise.resolve('access-1'));
    const { socket, s, onUnauthorized, factory } = service(renew);
    s.start();
    expect(factory.mock.calls[0][1]?.()).toBe('now');
    socket.active = false;
    socket.fire('connect_error', refusal());
    await vi.advanceTimersByTimeAsync(0);
    expect(renew).toHaveBeenCalledTimes(1);
    expect(socket.connectCalls).toBe(2);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('signs out when the renewal is refused, or the socket is refused again', async () => {
    const ended = service(() => Promise.resolve(null));
    ended.s.start();
    ended.socket.fire('connect_error', refusal());
    await vi.advanceTimersByTimeAsync(0);
    expect(ended.onUnauthorized).toHaveBeenCalledWith('Token expired');

    const again = service(() => Promise.resolve('access-1'));
    again.s.start();
    again.socket.fire('connect_error', refusal());
    await vi.advanceTimersByTimeAsync(0);
    again.socket.fire('connect_error', refusal());
    expect(again.onUnauthorized).toHaveBeenCalledWith('Token expired');
  });
});
