import { io } from 'socket.io-client';
import type { SocketFactory } from './socketLike';

/**
 * The real socket: same origin as the page, path /socket.io/, default transports, the JWT in the
 * handshake `auth` (the current one at every attempt: tokens are renewed while the page is open).
 * socket.io-client reconnects by itself with exponential backoff.
 */
export const createSocket: SocketFactory = (token, currentToken) =>
  io({
    path: '/socket.io/',
    auth: currentToken ? (callback) => callback({ token: currentToken() }) : { token },
    autoConnect: false,
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
    randomizationFactor: 0.5,
  });
