import { useMemo } from 'react';
import { useChat, useChatState } from '../app/context';
import { conversationHref } from '../app/route';
import { conversationTitle, sortConversations } from '../state/selectors';
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
            return (
              <li key={c.id}>
                <a
                  href={conversationHref(c.id)}
                  className={`conv-item${c.id === activeId ? ' active' : ''}${unread > 0 ? ' unread' : ''}`}
                  aria-current={c.id === activeId ? 'page' : undefined}
                >
                  <Avatar name={title} seed={c.id} />
                  <span className="conv-main">
                    <span className="conv-row">
                      <span className="conv-title">{title}</span>
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
                              <span className="conv-last conv-system">Group updated</span>
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
