import type { ClientEventName, AckOf, PayloadOf } from './events';
import type { SocketLike } from './socketLike';

export const ACK_TIMEOUT_CODE = 'timeout';

/**
 * Emits `event` with `payload` and resolves with the server's ack object.
 * Never rejects: a missing ack after `timeoutMs` resolves as `{ok: false, error: {code: 'timeout'}}`
 * (and the packet is dropped, never sent later),
 * and a malformed ack as `{ok: false, error: {code: 'bad_ack'}}`.
 */
export function emitWithAck<E extends ClientEventName>(
  socket: SocketLike,
  event: E,
  payload: PayloadOf<E>,
  timeoutMs: number,
): Promise<AckOf<E>> {
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit(event, payload, (err: unknown, ack: unknown) => {
      if (err) {
        resolve({
          ok: false,
          error: { code: ACK_TIMEOUT_CODE, message: 'The server did not answer in time.' },
        });
      } else if (ack && typeof ack === 'object' && typeof (ack as { ok?: unknown }).ok === 'boolean') {
        resolve(ack as AckOf<E>);
      } else {
        resolve({
          ok: false,
          error: { code: 'bad_ack', message: 'The server sent an unexpected answer.' },
        });
      }
    });
  });
}
