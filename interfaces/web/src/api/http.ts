import type { ApiErrorBody, Connection, User } from './types';

/** An error answered by the server (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

interface RequestOptions {
  token?: string | null;
  body?: unknown;
}

async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The server cannot be reached. Check your connection.');
  }
  let data: unknown = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const err = (data as { error?: ApiErrorBody } | null)?.error;
    throw new ApiError(
      response.status,
      err?.code ?? (response.status === 401 ? 'unauthorized' : 'http_error'),
      err?.message ?? `Request failed (${response.status}).`,
    );
  }
  return data as T;
}

export interface LoginResult {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  user: User;
}

export const api = {
  register: (username: string, password: string, display_name?: string) =>
    request<{ user: User }>('POST', '/api/auth/register', {
      body: display_name ? { username, password, display_name } : { username, password },
    }),
  login: (username: string, password: string) =>
    request<LoginResult>('POST', '/api/auth/login', { body: { username, password } }),
  me: (token: string) => request<{ user: User }>('GET', '/api/users/me', { token }),
  searchUsers: (token: string, query: string) =>
    request<{ users: User[] }>('GET', `/api/users?query=${encodeURIComponent(query)}`, { token }),
  listConnections: (token: string) =>
    request<{ connections: Connection[] }>('GET', '/api/connections', { token }),
  requestConnection: (token: string, username: string) =>
    request<{ connection: Connection }>('POST', '/api/connections', { token, body: { username } }),
  acceptConnection: (token: string, id: string) =>
    request<{ connection: Connection }>('POST', `/api/connections/${encodeURIComponent(id)}/accept`, { token }),
  declineConnection: (token: string, id: string) =>
    request<{ connection: Connection }>('POST', `/api/connections/${encodeURIComponent(id)}/decline`, { token }),
  removeConnection: (token: string, id: string) =>
    request<{ connection: Connection }>('DELETE', `/api/connections/${encodeURIComponent(id)}`, { token }),
};

export type Api = typeof api;
