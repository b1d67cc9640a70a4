import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useChat, useChatState } from '../app/context';
import { addableConnections, groupPermissions, membersByRole } from '../state/groups';
import { handleOf } from '../util/handle';
import { Avatar } from './Avatar';

const roleLabel = { owner: 'Owner', admin: 'Admin', member: 'Member' } as const;

/**
 * A group's settings (contract sections 5 and 7): its members with their roles and, to those allowed,
 * `Rename`, `Add members` (from the user's connections), `Remove`, `Make admin` / `Make member`, and
 * `Leave group` to every member. Each change waits for its ack; a refusal is shown as an alert.
 */
export function GroupSettingsDialog({ conversationId, onClose }: { conversationId: string; onClose: () => void }) {
  const client = useChat();
  const meId = client.me.id;
  const summary = useChatState((s) => s.conversations[conversationId]);
  const connections = useChatState((s) => s.connections);
  const can = useMemo(() => groupPermissions(summary, meId), [summary, meId]);
  const members = useMemo(() => membersByRole(summary), [summary]);
  const addable = useMemo(() => addableConnections(connections, summary, meId), [connections, summary, meId]);
  const [title, setTitle] = useState(summary?.title ?? '');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const dialogRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    dialogRef.current?.querySelector<HTMLElement>('input, button')?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);

  // Leaving (or being removed) ends what the dialog is for.
  useEffect(() => {
    if (summary?.left) onClose();
  }, [summary?.left, onClose]);

  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Something went wrong.');
    } finally {
      setBusy(false);
    }
  };

  const onRename = (e: FormEvent) => {
    e.preventDefault();
    const next = title.trim();
    if (!next || next === summary?.title) return;
    void run(() => client.renameConversation(conversationId, next));
  };

  const onAdd = (e: FormEvent) => {
    e.preventDefault();
    const [first, ...others] = picked;
    if (first === undefined) return;
    void run(async () => {
      await client.addMembers(conversationId, [first, ...others]);
      setPicked(new Set());
    });
  };

  const toggle = (id: string) =>
    setPicked((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <div className="modal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal group-settings" role="dialog" aria-modal="true" aria-labelledby="group-settings-title" ref={dialogRef}>
        <h2 id="group-settings-title">Group settings</h2>

        {can.rename && (
          <form className="settings-block" onSubmit={onRename}>
            <label htmlFor="group-name-input">Group name</label>
            <div className="inline-form">
              <input
                id="group-name-input"
                type="text"
                maxLength={100}
                value={title}
                onChange={(e) => setTitle(e.target.value)}
              />
              <button type="submit" disabled={busy || title.trim() === '' || title.trim() === summary?.title}>
                Rename
              </button>
            </div>
          </form>
        )}

        <section className="settings-block" aria-labelledby="group-members-title">
          <h3 id="group-members-title">{members.length} members</h3>
          <ul className="people-list" aria-label="Members">
            {members.map((m) => (
              <li key={m.user.id} className="person">
                <Avatar name={m.user.display_name} seed={m.user.id} size={32} />
                <span className="person-name">
                  {m.user.display_name}
                  {m.user.id === meId && ' (you)'}
                  <small>
                    {roleLabel[m.role]} · {handleOf(m.user)}
                  </small>
                </span>
                <span className="person-actions">
                  {can.makeAdmin(m) && (
                    <button
                      type="button"
                      className="secondary small"
                      disabled={busy}
                      onClick={() => void run(() => client.setMemberRole(conversationId, m.user.id, 'admin'))}
                    >
                      Make admin
                    </button>
                  )}
                  {can.makeMember(m) && (
                    <button
                      type="button"
                      className="secondary small"
                      disabled={busy}
                      onClick={() => void run(() => client.setMemberRole(conversationId, m.user.id, 'member'))}
                    >
                      Make member
                    </button>
                  )}
                  {can.remove(m) && (
                    <button
                      type="button"
                      className="danger small"
                      disabled={busy}
                      onClick={() => void run(() => client.removeMember(conversationId, m.user.id))}
                    >
                      Remove
                    </button>
                  )}
                </span>
              </li>
            ))}
          </ul>
        </section>

        {can.addMembers && (
          <form className="settings-block" onSubmit={onAdd}>
            <fieldset className="member-picker">
              <legend>Add people you are connected with</legend>
              {addable.length === 0 && <p className="empty-hint">Everyone you are connected with is here.</p>}
              {addable.map((u) => (
                <label key={u.id} className="check">
                  <input type="checkbox" checked={picked.has(u.id)} onChange={() => toggle(u.id)} />
                  <span>
                    {u.display_name} <small>{handleOf(u)}</small>
                  </span>
                </label>
              ))}
            </fieldset>
            <button type="submit" disabled={busy || picked.size === 0}>
              Add members
            </button>
          </form>
        )}

        {error && (
          <p className="feedback feedback-error" role="alert">
            {error}
          </p>
        )}

        <div className="modal-actions">
          {can.leave && (
            <button type="button" className="danger" disabled={busy} onClick={() => void run(() => client.leaveGroup(conversationId))}>
              Leave group
            </button>
          )}
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
