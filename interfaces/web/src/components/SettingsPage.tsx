import { useEffect, useState } from 'react';
import { useChat, useChatState } from '../app/context';
import { openConversationRoute } from '../app/route';
import { handleOf } from '../util/handle';
import { Avatar } from './Avatar';
import { DeleteAccount } from './DeleteAccount';

/** The Settings page (contract section 5): the users the user blocked, each with `Unblock`; `Delete account`. */
export function SettingsPage() {
  const client = useChat();
  const blocked = useChatState((s) => s.blocked);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // blocks made on another device show when the page is opened
  useEffect(() => {
    client.loadBlocked().catch((err: unknown) => setError(err instanceof Error ? err.message : 'The blocked users cannot be loaded.'));
  }, [client]);

  const unblock = async (userId: string) => {
    setBusy(true);
    setError(null);
    try {
      await client.unblock(userId);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Something went wrong.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="settings" aria-labelledby="settings-title">
      <header className="chat-header">
        <button type="button" className="back-button" onClick={() => openConversationRoute(null)}>
          <span aria-hidden="true">‹ </span>Back
        </button>
        <div className="chat-heading">
          <h2 id="settings-title">Settings</h2>
        </div>
      </header>
      <div className="settings-body">
        <section className="settings-block" aria-labelledby="blocked-title">
          <h3 id="blocked-title">Blocked users</h3>
          <p className="hint">
            Blocked people cannot ask to connect with you, find you, or see when you are online. Unblocking does not
            reconnect you.
          </p>
          {blocked === null ? (
            <p className="empty-hint">Loading…</p>
          ) : blocked.length === 0 ? (
            <p className="empty-hint">You have not blocked anyone.</p>
          ) : (
            <ul className="people-list" aria-label="Blocked users">
              {blocked.map((u) => (
                <li key={u.id} className="person">
                  <Avatar name={u.display_name} seed={u.id} size={32} />
                  <span className="person-name">
                    {u.display_name}
                    <small>{handleOf(u)}</small>
                  </span>
                  <span className="person-actions">
                    <button type="button" className="secondary small" disabled={busy} onClick={() => void unblock(u.id)}>
                      Unblock
                    </button>
                  </span>
                </li>
              ))}
            </ul>
          )}
          {error && (
            <p className="feedback feedback-error" role="alert">
              {error}
            </p>
          )}
        </section>
        <DeleteAccount />
      </div>
    </section>
  );
}
