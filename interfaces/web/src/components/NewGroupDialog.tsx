import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useChat, useChatState } from '../app/context';
import { openConversationRoute } from '../app/route';
import { peopleLists } from '../state/connections';
import { handleOf } from '../util/handle';

/** Picks two or more connected users and an optional title, then starts a group conversation. */
export function NewGroupDialog({ onClose }: { onClose: () => void }) {
  const client = useChat();
  const connections = useChatState((s) => s.connections);
  const people = useMemo(() => peopleLists(connections, client.me.id).connected, [connections, client]);
  const [title, setTitle] = useState('');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const titleRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    titleRef.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);

  const toggle = (id: string) =>
    setPicked((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const [first, ...others] = picked;
    if (first === undefined || others.length === 0) {
      setError('Pick at least two people for a group.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const id = await client.startConversation([first, ...others], title.trim() || undefined);
      onClose();
      openConversationRoute(id);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'The group could not be created.');
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="new-group-title">
        <h2 id="new-group-title">New group</h2>
        <form onSubmit={(e) => void onSubmit(e)}>
          <label htmlFor="group-title-input">Group title (optional)</label>
          <input
            id="group-title-input"
            ref={titleRef}
            type="text"
            maxLength={200}
            value={title}
            onChange={(e) => setTitle(e.target.value)}
          />
          <fieldset className="member-picker">
            <legend>Members</legend>
            {people.length === 0 && <p className="empty-hint">Connect with people first.</p>}
            {people.map(({ user }) => (
              <label key={user.id} className="check">
                <input type="checkbox" checked={picked.has(user.id)} onChange={() => toggle(user.id)} />
                <span>
                  {user.display_name} <small>{handleOf(user)}</small>
                </span>
              </label>
            ))}
          </fieldset>
          {error && (
            <p className="feedback feedback-error" role="alert">
              {error}
            </p>
          )}
          <div className="modal-actions">
            <button type="button" className="secondary" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" disabled={busy || picked.size < 2}>
              Create group
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
