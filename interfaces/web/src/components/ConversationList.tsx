import { useMemo } from 'react';
import { useChat, useChatState } from '../app/context';
import { conversationHref } from '../app/route';
import { isMuted } from '../state/groups';
import { conversationTitle, knownUsers, sortConversations } from '../state/selectors';
import type { ConversationSummary, SystemChange } from '../api/types';
import { systemText } from './SystemNote';
import { attachmentsSummary } from '../state/uploads';
import { formatShort } from '../util/time';
import { Avatar } from './Avatar';

/** The user's conversations, newest activity first. */
export function ConversationList({ activeId }: { activeId: string | null }) {
  const client = useChat();
  const meId = client.me.id;
  const conversations = useChatState((s) => s.conversations);
  const sorted = useMemo(() => sortConversations(conversations), [conversations]);

  return (
    <nav aria-label="Conversations" className="conv-list">
      {sorted.length === 0 ? (
        <p className="empty-hint">No conversations yet. Start one with someone from People.</p>
      ) : (
        <ul>
          {sorted.map((c) => {
            const title = conversationTitle(c, meId);
            const last = c.last_message;
            const unread = c.unread_count;
            const mentions = c.mention_count ?? 0;
            const muted = isMuted(c);
            return (
              <li key={c.id}>
                <a
                  href={conversationHref(c.id)}
                  className={`conv-item${c.id === activeId ? ' active' : ''}${unread > 0 ? ' unread' : ''}${muted ? ' muted' : ''}${c.left ? ' departed' : ''}`}
                  aria-current={c.id === activeId ? 'page' : undefined}
                >
                  <Avatar name={title} seed={c.id} />
                  <span className="conv-main">
                    <span className="conv-row">
                      <span className="conv-title">{title}</span>
                      {muted && (
                        <span className="conv-muted" role="img" aria-label="Muted" title="Muted">
                          <BellOff />
                        </span>
                      )}
                      {(c.last_message_at ?? c.created_at) && (
                        <time className="conv-time" dateTime={c.last_message_at ?? c.created_at}>
                          {formatShort(c.last_message_at ?? c.created_at)}
                        </time>
                      )}
                    </span>
                    <span className="conv-row">
                      <span className="conv-preview">
                        {last ? (
                          <>
                            {last.sender_id === meId && last.kind === 'text' && <span className="conv-you">You: </span>}
                            {last.deleted ? (
                              <span className="conv-last conv-deleted">Message deleted</span>
                            ) : last.kind === 'system' ? (
                              <span className="conv-last conv-system">{systemPreview(c, last.system, meId, client.me.display_name)}</span>
                            ) : (
                              <span className="conv-last">{last.body || attachmentsSummary(last.attachments ?? [])}</span>
                            )}
                          </>
                        ) : (
                          <span className="conv-empty">{c.kind === 'group' ? 'Group created' : 'Say hello'}</span>
                        )}
                      </span>
                      {mentions > 0 && (
                        <span className="badge badge-mention" role="img" aria-label={`${mentions} mentions`}>
                          @{mentions > 99 ? '99+' : mentions}
                        </span>
                      )}
                      {unread > 0 && (
                        <span className="badge" role="img" aria-label={`${unread} unread`}>
                          {unread > 99 ? '99+' : unread}
                        </span>
                      )}
                    </span>
                  </span>
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </nav>
  );
}

/** A system message as the list's preview: "Alice added Bob". */
function systemPreview(
  c: ConversationSummary,
  change: SystemChange | null,
  meId: string,
  myName: string,
): string {
  if (!change) return 'Group updated';
  const users = knownUsers(c);
  return systemText(change, (id) => (id === meId ? myName : (users.find((u) => u.id === id)?.display_name ?? 'Someone')));
}

/** A crossed-out bell: the conversation is muted. */
function BellOff() {
  return (
    <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">
      <path
        d="M18 16v-5a6 6 0 0 0-9.3-5M6.3 8.4A6 6 0 0 0 6 11v5l-2 2h13M10 21h4M3 3l18 18"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
