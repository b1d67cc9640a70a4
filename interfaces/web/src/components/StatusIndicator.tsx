import type { PresenceStatus } from '../state/types';

/** Presence dot of a user; its accessible name is exactly `Online` or `Offline`. */
export function StatusIndicator({ status }: { status: PresenceStatus }) {
  const label = status === 'online' ? 'Online' : 'Offline';
  return <span className={`presence presence-${status}`} role="img" aria-label={label} title={label} />;
}
