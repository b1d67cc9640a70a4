import { useEffect, useMemo, useState } from 'react';
import { ChatClient } from '../app/chatClient';
import { ChatContext, useChat, useChatState } from '../app/context';
import { conversationFromHash, isSettingsHash, openSettingsRoute, useHash } from '../app/route';
import { nextMuteEnd, pageTitle, totalUnread } from '../state/groups';
import type { SessionKeeper } from '../app/sessionKeeper';
import { Avatar } from './Avatar';
import { ChatWindow } from './ChatWindow';
import { ConnectionStateBadge } from './ConnectionStateBadge';
import { ConnectionsPanel } from './ConnectionsPanel';
import { ConversationList } from './ConversationList';
import { NewGroupDialog } from './NewGroupDialog';
import { SettingsPage } from './SettingsPage';
import { SearchPanel } from './SearchPanel';

interface Props {
  keeper: SessionKeeper;
  onSignOut: (message?: string) => void;
}

/** The signed-in app: one ChatClient (socket + store) per sign-in; its tokens renew underneath. */
export function ChatApp({ keeper, onSignOut }: Props) {
  // App gives this component key={keeper.key}, so the client is created once per sign-in.
  const [client] = useState(
    () =>
      new ChatClient({ token: keeper.token, me: keeper.current.user, onUnauthorized: onSignOut, tokens: keeper }),
  );

  useEffect(() => {
    client.start();
    return () => client.stop();
  }, [client]);

  return (
    <ChatContext.Provider value={client}>
      <Shell keeper={keeper} onSignOut={onSignOut} />
    </ChatContext.Provider>
  );
}

function Notice() {
  const notice = useChatState((s) => s.notice);
  const noticeId = useChatState((s) => s.noticeId);
  const [dismissed, setDismissed] = useState<number | null>(null);
  if (!notice || noticeId === dismissed) return null;
  return (
    <div className="notice" role="status">
      <span>{notice}</span>
      <button type="button" className="link-button" onClick={() => setDismissed(noticeId)}>
        Dismiss
      </button>
    </div>
  );
}

function Shell({ keeper }: Props) {
  const client = useChat();
  const hash = useHash();
  const activeId = conversationFromHash(hash);
  const settings = isSettingsHash(hash);
  const [groupOpen, setGroupOpen] = useState(false);
  const closeGroup = useMemo(() => () => setGroupOpen(false), []);

  useEffect(() => {
    client.openConversation(activeId);
  }, [client, activeId]);

  // a mute ends by itself, without an event: render again then, so the total counts it again
  const [now, setNow] = useState(() => Date.now());
  const muteEnd = useChatState((s) => nextMuteEnd(s.conversations, now));
  useEffect(() => {
    if (muteEnd === null) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.max(0, muteEnd - Date.now()) + 50);
    return () => clearTimeout(timer);
  }, [muteEnd]);
  const unread = useChatState((s) => totalUnread(s, now));
  useEffect(() => {
    document.title = pageTitle(unread);
  }, [unread]);

  const me = keeper.current.user;
  const [signingOut, setSigningOut] = useState(false);
  const signOut = (everywhere: boolean) => {
    setSigningOut(true);
    void keeper.signOut(everywhere); // then App shows the sign-in screen
  };
  return (
    <div className={`layout${activeId || settings ? ' has-active' : ''}`}>
      <aside className="sidebar">
        <header className="sidebar-header">
          <Avatar name={me.display_name} seed={me.id} size={36} />
          <div className="me">
            <span className="me-name">{me.display_name}</span>
            <ConnectionStateBadge />
          </div>
          <button
            type="button"
            className="secondary small"
            aria-current={settings ? 'page' : undefined}
            onClick={() => openSettingsRoute()}
          >
            Settings
          </button>
          <button type="button" className="secondary small" disabled={signingOut} onClick={() => signOut(false)}>
            Sign out
          </button>
        </header>
        <Notice />
        <div className="sidebar-scroll">
          <SearchPanel />
          <div className="section-head">
            <h2 className="section-title">Chats</h2>
            <button type="button" className="secondary small" onClick={() => setGroupOpen(true)}>
              New group
            </button>
          </div>
          <ConversationList activeId={activeId} />
          <ConnectionsPanel />
          <section className="account" aria-label="Account">
            <h2 className="section-title">Account</h2>
            <button type="button" className="secondary small" disabled={signingOut} onClick={() => signOut(true)}>
              Sign out everywhere
            </button>
          </section>
        </div>
      </aside>
      <main className="main">
        {activeId ? (
          <ChatWindow key={activeId} conversationId={activeId} />
        ) : settings ? (
          <SettingsPage />
        ) : (
          <div className="placeholder">
            <span className="brand-mark" aria-hidden="true" />
            <p>Pick a conversation to start chatting.</p>
          </div>
        )}
      </main>
      {groupOpen && <NewGroupDialog onClose={closeGroup} />}
    </div>
  );
}
