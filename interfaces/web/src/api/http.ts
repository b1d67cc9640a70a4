import type {
  BlockedBody,
  ConnectionBody,
  ConnectionsBody,
  ErrorBody,
  ChangePassword,
  DeleteAccount,
  Empty,
  Login,
  Logout,
  Refresh,
  Register,
  RequestConnection,
  SignedIn,
  UnreadBody,
  UserBody,
  UsersBody,
} from './contract.gen';

/** An HTTP error's code: the server's (contract `Error`), or the client's own for no usable answer. */
export type ApiErrorCode = ErrorBody['error']['code'] | 'network_error' | 'http_error';

/** An error answered by the server (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;

  constructor(status: number, code: ApiErrorCode, message: string) {
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
    const err = (data as Partial<ErrorBody> | null)?.error;
    throw new ApiError(
      response.status,
      err?.code ?? (response.status === 401 ? 'unauthorized' : 'http_error'),
      err?.message ?? `Request failed (${response.status}).`,
    );
  }
  return data as T;
}

export const api = {
  register: (username: string, password: string, display_name?: string) =>
    request<UserBody>('POST', '/api/auth/register', {
      body: (display_name ? { username, password, display_name } : { username, password }) satisfies Register,
    }),
  login: (username: string, password: string) =>
    request<SignedIn>('POST', '/api/auth/login', { body: { username, password } satisfies Login }),
  refresh: (refresh_token: string) =>
    request<SignedIn>('POST', '/api/auth/refresh', { body: { refresh_token } satisfies Refresh }),
  logout: (token: string, everywhere = false) =>
    request<Empty>('POST', '/api/auth/logout', { token, body: { everywhere } satisfies Logout }),
  changePassword: (token: string, current_password: string, new_password: string) =>
    request<SignedIn>('POST', '/api/auth/password', {
      token,
      body: { current_password, new_password } satisfies ChangePassword,
    }),
  me: (token: string) => request<UserBody>('GET', '/api/users/me', { token }),
  /** Erases the account (contract section 11): 401 `invalid_credentials` for a wrong password. */
  deleteAccount: (token: string, password: string) =>
    request<Empty>('DELETE', '/api/users/me', { token, body: { password } satisfies DeleteAccount }),
  searchUsers: (token: string, query: string) =>
    request<UsersBody>('GET', `/api/users?query=${encodeURIComponent(query)}`, { token }),
  listConnections: (token: string) => request<ConnectionsBody>('GET', '/api/connections', { token }),
  requestConnection: (token: string, username: string) =>
    request<ConnectionBody>('POST', '/api/connections', { token, body: { username } satisfies RequestConnection }),
  acceptConnection: (token: string, id: string) =>
    request<ConnectionBody>('POST', `/api/connections/${encodeURIComponent(id)}/accept`, { token }),
  declineConnection: (token: string, id: string) =>
    request<ConnectionBody>('POST', `/api/connections/${encodeURIComponent(id)}/decline`, { token }),
  removeConnection: (token: string, id: string) =>
    request<ConnectionBody>('DELETE', `/api/connections/${encodeURIComponent(id)}`, { token }),
  listBlocked: (token: string) => request<BlockedBody>('GET', '/api/blocks', { token }),
  block: (token: string, userId: string) =>
    request<BlockedBody>('POST', `/api/users/${encodeURIComponent(userId)}/block`, { token }),
  unblock: (token: string, userId: string) =>
    request<BlockedBody>('DELETE', `/api/users/${encodeURIComponent(userId)}/block`, { token }),
  unread: (token: string) => request<UnreadBody>('GET', '/api/unread', { token }),
};

export type Api = typeof api;

/**
 * Whether the server refused the access token itself (the session ended or the token expired), as
 * opposed to a 401 about what was asked (`invalid_credentials`: a wrong password), which ends nothing.
 */
export function isTokenRefused(err: unknown): err is ApiError {
  return err instanceof ApiError && err.status === 401 && err.code !== 'invalid_credentials';
}
