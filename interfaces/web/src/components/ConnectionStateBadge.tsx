import { useChatState } from '../app/context';
import type { ConnectionState } from '../state/types';

const text: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  online: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Disconnected',
};

/** The socket's state, named "Connection state" so it never clashes with presence indicators. */
export function ConnectionStateBadge() {
  const state = useChatState((s) => s.connection);
  return (
    <span className={`conn-state conn-${state}`} role="status" aria-label="Connection state">
      {text[state]}
    </span>
  );
}
