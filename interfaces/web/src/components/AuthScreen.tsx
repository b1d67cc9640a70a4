import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/http';
import { sessionFrom, type Session } from '../app/session';

interface Props {
  onSignedIn: (session: Session) => void;
  /** Why the user was signed out, if they were. */
  notice?: string | null;
}

function messageOf(err: unknown): string {
  if (err instanceof ApiError || err instanceof Error) return err.message;
  return 'Something went wrong. Please try again.';
}

/** Sign in, or create an account (then sign in with it). */
export function AuthScreen({ onSignedIn, notice }: Props) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const signIn = async () => {
    const result = await api.login(username.trim(), password);
    onSignedIn(sessionFrom(result));
  };

  const attempt = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void attempt(signIn);
  };

  const onCreate = () =>
    void attempt(async () => {
      await api.register(username.trim(), password, displayName.trim() || undefined);
      await signIn();
    });

  return (
    <main className="auth">
      <div className="auth-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <h1>Parley</h1>
        </div>
        <p className="auth-lead">Real-time chat with the people you know.</p>
        {notice && !error && (
          <p className="feedback" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={onSubmit} noValidate>
          <label htmlFor="auth-username">Username</label>
          <input
            id="auth-username"
            type="text"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
          <label htmlFor="auth-password">Password</label>
          <input
            id="auth-password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <label htmlFor="auth-display-name">Display name</label>
          <input
            id="auth-display-name"
            type="text"
            autoComplete="nickname"
            aria-describedby="auth-display-hint"
            value={displayName}
            onChange={(e) => setDisplayName(e.target.value)}
          />
          <small id="auth-display-hint" className="hint">
            Only for a new account; shown to the people you chat with.
          </small>
          {error && (
            <p className="feedback feedback-error" role="alert">
              {error}
            </p>
          )}
          <div className="auth-actions">
            <button type="submit" disabled={busy}>
              Sign in
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={onCreate}>
              Create account
            </button>
          </div>
        </form>
      </div>
    </main>
  );
}
