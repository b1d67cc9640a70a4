import { Fragment, useLayoutEffect, useMemo, useRef, type UIEvent } from 'react';
import { useChat, useChatState } from '../app/context';
import { openConversationRoute } from '../app/route';
import { conversationTitle, otherMembers, timeline, typingNames } from '../state/selectors';
import type { ConversationMessages, OutgoingMessage } from '../state/types';
import { handleOf } from '../util/handle';
import { Avatar } from './Avatar';
import { Composer } from './Composer';
import { MessageBubble } from './MessageBubble';
import { TypingIndicator } from './TypingIndicator';

const NEAR_TOP_PX = 80;
const NEAR_BOTTOM_PX = 80;
const noOutgoing: OutgoingMessage[] = [];

function dayLabel(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date();
  const yesterday = new Date(today);
  yesterday.setDate(today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return 'Today';
  if (d.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return d.toLocaleDateString(undefined, { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric' });
}

/** The open conversation: header, message log (lazy-loads older pages at the top), typing, composer. */
export function ChatWindow({ conversationId }: { conversationId: string }) {
  const client = useChat();
  const meId = client.me.id;
  const summary = useChatState((s) => s.conversations[conversationId]);
  const entry: ConversationMessages | undefined = useChatState((s) => s.messages[conversationId]);
  const outbox = useChatState((s) => s.outbox[conversationId] ?? noOutgoing);
  const presence = useChatState((s) => s.presence);
  // joined into one string so the selected value is stable while nothing changes
  const typingText = useChatState((s) => typingNames(s, conversationId).join('\u0000'));
  const typing = useMemo(() => (typingText ? typingText.split('\u0000') : []), [typingText]);
  const items = useMemo(
    () => timeline(entry?.items ?? [], outbox, summary, meId),
    [entry?.items, outbox, summary, meId],
  );

  const logRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const restore = useRef<{ height: number; top: number } | null>(null);
  const prevFirst = useRef<string | undefined>(undefined);
  const prevLast = useRef<string | undefined>(undefined);
  const firstKey = items[0]?.key;
  const lastKey = items[items.length - 1]?.key;

  const loadOlder = () => {
    const el = logRef.current;
    if (!el || !entry?.loaded || !entry.hasMoreBefore || entry.loadingOlder) return;
    restore.current = { height: el.scrollHeight, top: el.scrollTop };
    void client.loadOlder(conversationId);
  };

  useLayoutEffect(() => {
    const el = logRef.current;
    if (!el) return;
    if (restore.current && firstKey !== prevFirst.current) {
      // older messages were put on top: keep what the user was looking at in place
      el.scrollTop = el.scrollHeight - restore.current.height + restore.current.top;
      restore.current = null;
    } else if (lastKey !== prevLast.current) {
      const last = items[items.length - 1];
      if (atBottom.current || (last?.own && last.seq === null)) el.scrollTop = el.scrollHeight;
    }
    prevFirst.current = firstKey;
    prevLast.current = lastKey;
    // a first page that does not fill the pane: fetch more so the user can scroll
    if (el.clientHeight > 0 && el.scrollHeight <= el.clientHeight) loadOlder();
  });

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (el.scrollTop < NEAR_TOP_PX) loadOlder();
  };

  const title = summary ? conversationTitle(summary, meId) : 'Conversation';
  const others = summary ? otherMembers(summary, meId) : [];
  const subtitle =
    summary?.kind === 'group'
      ? `${summary.members.length} members`
      : others[0] && presence[others[0].user.id] === 'online'
        ? 'Active now'
        : others[0]
          ? handleOf(others[0].user)
          : '';
  const nameOf = (userId: string) =>
    summary?.members.find((m) => m.user.id === userId)?.user.display_name ?? 'Someone';

  return (
    <section className="chat" aria-labelledby="chat-title">
      <header className="chat-header">
        <button type="button" className="back-button" onClick={() => openConversationRoute(null)}>
          <span aria-hidden="true">‹ </span>Back
        </button>
        <Avatar name={title} seed={conversationId} size={36} />
        <div className="chat-heading">
          <h2 id="chat-title">{title}</h2>
          {subtitle && <p className="chat-sub">{subtitle}</p>}
        </div>
      </header>
      <div className="log" role="log" aria-label="Messages" ref={logRef} onScroll={onScroll}>
        {entry?.loadingOlder && <p className="log-note">Loading history…</p>}
        {entry?.loaded && !entry.hasMoreBefore && items.length > 0 && (
          <p className="log-note">This is the beginning of the conversation.</p>
        )}
        {!entry?.loaded && <p className="log-note">Loading…</p>}
        {entry?.loaded && items.length === 0 && <p className="log-note">Nothing here yet. Say hello!</p>}
        <ol className="messages">
          {items.map((item, i) => {
            const prev = items[i - 1];
            const day = dayLabel(item.sentAt);
            const newDay = !prev || dayLabel(prev.sentAt) !== day;
            const showSender = summary?.kind === 'group' && !item.own && (newDay || prev.senderId !== item.senderId);
            return (
              <Fragment key={item.key}>
                {newDay && (
                  // decorative: each message's <time> carries the date for assistive technology
                  <li className="day-separator" aria-hidden="true">
                    <span>{day}</span>
                  </li>
                )}
                <MessageBubble
                  item={item}
                  senderName={showSender ? nameOf(item.senderId) : null}
                  onRetry={(cmid) => void client.retry(conversationId, cmid)}
                />
              </Fragment>
            );
          })}
        </ol>
      </div>
      <TypingIndicator names={typing} />
      <Composer conversationId={conversationId} />
    </section>
  );
}
