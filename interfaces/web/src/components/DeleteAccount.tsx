import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useChat } from '../app/context';

/**
 * `Delete account` on the Settings page (contract sections 5 and 11): the button opens a form that says
 * what erasure does, asks for the password (field `Password`) and confirms with `Delete my account`.
 * A wrong password shows the server's message (role `alert`) and the user stays signed in; on success
 * the chat client signs out (App then shows the signed-out screen).
 */
export function DeleteAccount() {
  const client = useChat();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  useEffect(() => {
    if (open) field.current?.focus();
  }, [open]);

  const cancel = () => {
    setOpen(false);
    setPassword('');
    setError(null);
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    if (password === '') {
      setError('Enter your password to delete your account.');
      field.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await client.deleteAccount(password);
      // signed out: this page is gone
    } catch (err) {
      if (!mounted.current) return; // (signed out meanwhile: the session was refused)
      setError(err instanceof Error ? err.message : 'Your account could not be deleted.');
      setPassword('');
      setBusy(false);
      field.current?.focus();
    }
  };

  return (
    <section className="settings-block danger-zone" aria-labelledby="delete-account-title">
      <h3 id="delete-account-title">Delete account</h3>
      <p className="hint">
        Deleting your account cannot be undone. Your messages are deleted for everyone, your connections are removed,
        you leave every group, and others see you as “Deleted user”.
      </p>
      {!open ? (
        <button type="button" className="danger" onClick={() => setOpen(true)}>
          Delete account
        </button>
      ) : (
        <form className="delete-account-form" onSubmit={(e) => void onSubmit(e)} noValidate>
          <label htmlFor="delete-account-password">Password</label>
          <input
            id="delete-account-password"
            ref={field}
            type="password"
            autoComplete="current-password"
            aria-describedby="delete-account-warning"
            value={password}
            disabled={busy}
            onChange={(e) => setPassword(e.target.value)}
          />
          <p id="delete-account-warning" className="hint">
            Enter your password to confirm. This cannot be undone.
          </p>
          {busy && (
            <p className="hint" role="status">
              Deleting your account…
            </p>
          )}
          {error && (
            <p className="feedback feedback-error" role="alert">
              {error}
            </p>
          )}
          <div className="form-actions">
            <button type="submit" className="danger" disabled={busy}>
              Delete my account
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={cancel}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
