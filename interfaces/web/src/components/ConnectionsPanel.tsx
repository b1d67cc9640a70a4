import { useMemo, useState, type FormEvent } from 'react';
import { useChat, useChatState } from '../app/context';
import { openConversationRoute } from '../app/route';
import type { User } from '../api/types';
import { peopleLists } from '../state/connections';
import { handleOf } from '../util/handle';
import { Avatar } from './Avatar';
import { StatusIndicator } from './StatusIndicator';
import { UserSuggestions, useUserSuggestions } from './UserSuggestions';

/** Add connections, answer requests, and see and message connected people. */
export function ConnectionsPanel() {
  const client = useChat();
  const meId = client.me.id;
  const connections = useChatState((s) => s.connections);
  const presence = useChatState((s) => s.presence);
  const conversations = useChatState((s) => s.conversations);
  const lists = useMemo(() => peopleLists(connections, meId), [connections, meId]);

  const [username, setUsername] = useState('');
  const [feedback, setFeedback] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [focused, setFocused] = useState(false);
  const found = useUserSuggestions(focused ? username : '');
  const suggestions = found.filter((u) => u.username !== username.trim().toLowerCase());

  const run = async (action: () => Promise<unknown>, success?: string) => {
    setBusy(true);
    try {
      await action();
      setFeedback(success ? { kind: 'ok', text: success } : null);
    } catch (err) {
      setFeedback({ kind: 'error', text: err instanceof Error ? err.message : 'Something went wrong.' });
    } finally {
      setBusy(false);
    }
  };

  const onRequest = (e: FormEvent) => {
    e.preventDefault();
    const name = username.trim();
    if (!name) return;
    void run(async () => {
      await client.requestConnection(name);
      setUsername('');
    }, `Asked ${name} to connect.`);
  };

  const openDirect = (user: User) =>
    run(async () => {
      const existing = Object.values(conversations).find(
        (c) => c.kind === 'direct' && c.members.some((m) => m.user.id === user.id),
      );
      const id = existing ? existing.id : await client.startConversation([user.id]);
      openConversationRoute(id);
    });

  return (
    <section className="people" aria-labelledby="people-heading">
      <h2 id="people-heading" className="section-title">
        People
      </h2>
      <form className="add-connection" onSubmit={onRequest}>
        <label htmlFor="add-connection-input">Add connection</label>
        <div className="inline-form">
          <input
            id="add-connection-input"
            type="text"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            placeholder="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            onFocus={() => setFocused(true)}
            onBlur={() => setFocused(false)}
          />
          <button type="submit" disabled={busy || username.trim() === ''}>
            Send request
          </button>
        </div>
        <UserSuggestions users={suggestions} onPick={setUsername} />
      </form>
      {feedback &&
        (feedback.kind === 'error' ? (
          <p className="feedback feedback-error" role="alert">
            {feedback.text}
          </p>
        ) : (
          <p className="feedback" role="status">
            {feedback.text}
          </p>
        ))}

      {lists.incoming.length > 0 && (
        <ul className="people-list" aria-label="Requests to you">
          {lists.incoming.map((c) => (
            <li key={c.id} className="person">
              <Avatar name={c.requester.display_name} seed={c.requester.id} size={32} />
              <span className="person-name">
                {c.requester.display_name}
                <small>{handleOf(c.requester)} wants to connect</small>
              </span>
              <span className="person-actions">
                <button type="button" disabled={busy} onClick={() => void run(() => client.acceptConnection(c.id))}>
                  Accept
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={busy}
                  onClick={() => void run(() => client.declineConnection(c.id))}
                >
                  Decline
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}

      {lists.outgoing.length > 0 && (
        <ul className="people-list" aria-label="Requests you sent">
          {lists.outgoing.map((c) => (
            <li key={c.id} className="person person-muted">
              <Avatar name={c.addressee.display_name} seed={c.addressee.id} size={32} />
              <span className="person-name">
                {c.addressee.display_name}
                <small>Request pending</small>
              </span>
            </li>
          ))}
        </ul>
      )}

      {lists.connected.length > 0 ? (
        <ul className="people-list" aria-label="Your connections">
          {lists.connected.map(({ connection, user }) => (
            <li key={connection.id} className="person">
              <span className="avatar-wrap">
                <Avatar name={user.display_name} seed={user.id} size={32} />
                <StatusIndicator status={presence[user.id] ?? 'offline'} />
              </span>
              <span className="person-name">
                {user.display_name}
                <small>{handleOf(user)}</small>
              </span>
              <span className="person-actions">
                <button type="button" disabled={busy} onClick={() => void openDirect(user)}>
                  Message
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={busy}
                  title={`Block ${user.display_name}: removes the connection and hides your presence`}
                  onClick={() => void run(() => client.block(user.id), `Blocked ${user.display_name}.`)}
                >
                  Block
                </button>
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="empty-hint">No connections yet. Add someone by username.</p>
      )}
    </section>
  );
}
