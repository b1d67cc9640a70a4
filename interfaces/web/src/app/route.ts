import { useEffect, useState } from 'react';

/** The open conversation lives in the URL hash (#/c/<id>), so Back and reload work. */
export function conversationFromHash(hash: string): string | null {
  const match = /^#\/c\/([0-9a-fA-F-]{1,64})$/.exec(hash);
  return match ? match[1] : null;
}

export function conversationHref(id: string): string {
  return `#/c/${id}`;
}

export function openConversationRoute(id: string | null): void {
  const target = id ? conversationHref(id) : '#/';
  if (window.location.hash !== target) window.location.hash = target;
}

export function useHashConversation(): string | null {
  const [id, setId] = useState(() => conversationFromHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setId(conversationFromHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return id;
}
