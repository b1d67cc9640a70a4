import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from './api/http';
import { clearSession, loadSession, saveSession, type Session } from './app/session';
import { AuthScreen } from './components/AuthScreen';
import { ChatApp } from './components/ChatApp';

/** Signed out: the auth screen. Signed in: the chat. The session survives a reload. */
export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState<string | null>(null);
  const restored = useRef(session);

  const signOut = useCallback((message?: string) => {
    clearSession();
    setSession(null);
    setNotice(message ?? null);
  }, []);

  const signIn = useCallback((next: Session) => {
    saveSession(next);
    setNotice(null);
    setSession(next);
  }, []);

  // A session restored from storage is checked once with the server; a refused token signs out.
  useEffect(() => {
    const stored = restored.current;
    if (!stored) return;
    restored.current = null;
    api.me(stored.token).then(
      ({ user }) => {
        saveSession({ token: stored.token, user });
        setSession((s) => (s && s.token === stored.token ? { token: s.token, user } : s));
      },
      (err) => {
        if (err instanceof ApiError && err.status === 401) signOut('Your session has expired. Please sign in again.');
      },
    );
  }, [signOut]);

  if (!session) return <AuthScreen onSignedIn={signIn} notice={notice} />;
  return <ChatApp key={session.token} session={session} onSignOut={signOut} />;
}
