import { useEffect, useState } from 'react';

/** The open conversation lives in the URL hash (#/c/<id>), so Back and reload work. */
export function conversationFromHash(hash: string): string | null {
  const match = /^#\/c\/([0-9a-fA-F-]{1,64})$/.exec(hash);
  return match ? match[1] : null;
}

export function conversationHref(id: string): string {
  return `#/c/${id}`;
}

/** The Settings page (blocked users). */
export const SETTINGS_HASH = '#/settings';

export function isSettingsHash(hash: string): boolean {
  return hash === SETTINGS_HASH;
}

export function openConversationRoute(id: string | null): void {
  const target = id ? conversationHref(id) : '#/';
  if (window.location.hash !== target) window.location.hash = target;
}

export function openSettingsRoute(): void {
  if (window.location.hash !== SETTINGS_HASH) window.location.hash = SETTINGS_HASH;
}

/** The current URL hash, following its changes. */
export function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

export function useHashConversation(): string | null {
  return conversationFromHash(useHash());
}
