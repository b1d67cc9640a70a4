import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from './api/http';
import { clearSession, loadSession, saveSession, type Session } from './app/session';
import { SessionKeeper } from './app/sessionKeeper';
import { AuthScreen } from './components/AuthScreen';
import { ChatApp } from './components/ChatApp';

/**
 * Signed out: the auth screen. Signed in: the chat, with a SessionKeeper that renews the tokens, so
 * nobody is signed out by an access token's expiry. The session survives a reload.
 */
export function App() {
  // The session as signed in (or restored); its renewals live in the keeper, not here.
  const [signedIn, setSignedIn] = useState<Session | null>(() => loadSession());
  const [restored] = useState(signedIn);
  const [notice, setNotice] = useState<string | null>(null);
  const checked = useRef(false);

  const signedOut = useCallback((message?: string) => {
    clearSession();
    setSignedIn(null);
    setNotice(message ?? null);
  }, []);

  const signIn = useCallback((next: Session) => {
    saveSession(next);
    setNotice(null);
    setSignedIn(next);
  }, []);

  const keeper = useMemo(
    () => (signedIn ? new SessionKeeper(signedIn, { onSignedOut: signedOut }) : null),
    [signedIn, signedOut],
  );

  useEffect(() => {
    if (!keeper) return;
    keeper.start();
    return () => keeper.stop();
  }, [keeper]);

  // A session restored from storage is checked once with the server (renewed if its access token
  // expired meanwhile); a session the server refuses signs out.
  useEffect(() => {
    if (checked.current || !keeper || !restored) return;
    checked.current = true;
    keeper.withToken((token) => api.me(token)).then(
      ({ user }) => keeper.adopt({ ...keeper.current, user }),
      (err) => {
        if (err instanceof ApiError && err.status === 401) signedOut('Your session has expired. Please sign in again.');
      },
    );
  }, [keeper, restored, signedOut]);

  if (!keeper) return <AuthScreen onSignedIn={signIn} notice={notice} />;
  return <ChatApp key={keeper.key} keeper={keeper} onSignOut={signedOut} />;
}
