import { Fragment, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent, type UIEvent } from 'react';
import type { Quote } from '../api/types';
import { useChat, useChatState } from '../app/context';
import { openConversationRoute } from '../app/route';
import { isMuted, myRole } from '../state/groups';
import { quoteText } from '../state/lifecycle';
import { conversationTitle, knownUsers, otherMembers, timeline, typingNames, type TimelineItem } from '../state/selectors';
import type { ConversationMessages, OutgoingMessage } from '../state/types';
import { dragHasFiles, pickedFiles } from '../util/files';
import { handleOf } from '../util/handle';
import { Avatar } from './Avatar';
import { Composer, type ComposerMode } from './Composer';
import { GroupSettingsDialog } from './GroupSettingsDialog';
import { MessageBubble, type MessageContext } from './MessageBubble';
import { SystemNote } from './SystemNote';
import { TypingIndicator } from './TypingIndicator';

const NEAR_TOP_PX = 80;
const NEAR_BOTTOM_PX = 80;
const noOutgoing: OutgoingMessage[] = [];
const FLASH_MS = 1600;

/** Brings a message into view and marks it briefly (a reply's original, a search result, once clicked). */
function showMessage(log: HTMLElement, messageId: string): boolean {
  const el = log.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(messageId)}"]`);
  if (!el) return false;
  el.scrollIntoView({ block: 'center' });
  el.focus({ preventScroll: true });
  el.classList.add('msg-flash');
  setTimeout(() => el.classList.remove('msg-flash'), FLASH_MS);
  return true;
}

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
  const pending = useChatState((s) => s.pending);
  const items = useMemo(
    () => timeline(entry?.items ?? [], outbox, summary, meId, pending),
    [entry?.items, outbox, summary, meId, pending],
  );
  const [mode, setMode] = useState<ComposerMode>(null);
  const endMode = useCallback(() => setMode(null), []);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const closeSettings = useCallback(() => setSettingsOpen(false), []);
  const [muting, setMuting] = useState(false);

  const logRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const restore = useRef<{ height: number; top: number } | null>(null);
  const prevFirst = useRef<string | undefined>(undefined);
  const prevLast = useRef<string | undefined>(undefined);
  const prevHeight = useRef(0);
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
    } else if (atBottom.current && el.scrollHeight !== prevHeight.current) {
      // a message at the bottom grew (reactions, an edit, a quote): stay at the bottom
      el.scrollTop = el.scrollHeight;
    }
    prevHeight.current = el.scrollHeight;
    prevFirst.current = firstKey;
    prevLast.current = lastKey;
    // a first page that does not fill the pane: fetch more so the user can scroll
    if (el.clientHeight > 0 && el.scrollHeight <= el.clientHeight) loadOlder();
  });

  // the pane got shorter (the reply or edit bar above the field): whoever was at the bottom stays there
  useEffect(() => {
    const el = logRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (el.scrollTop < NEAR_TOP_PX) loadOlder();
  };

  const title = summary ? conversationTitle(summary, meId) : 'Conversation';
  const others = summary ? otherMembers(summary, meId) : [];
  // a direct conversation with someone who deleted their account: its history stays, nobody can answer
  const partnerDeleted = summary?.kind === 'direct' && others.length > 0 && others.every((m) => m.user.deleted);
  const subtitle =
    summary?.kind === 'group'
      ? summary.left
        ? 'No longer a member'
        : `${summary.members.length} members`
      : partnerDeleted
        ? 'Account deleted'
        : others[0] && presence[others[0].user.id] === 'online'
        ? 'Active now'
        : others[0]
          ? handleOf(others[0].user)
          : '';
  const people = useMemo(() => knownUsers(summary), [summary]);
  const nameOf = useCallback(
    (userId: string) =>
      userId === meId ? client.me.display_name : (people.find((u) => u.id === userId)?.display_name ?? 'Someone'),
    [people, meId, client.me.display_name],
  );

  const jumpTo = useCallback(
    async (quote: Quote, origin: HTMLElement) => {
      const log = () => origin.closest<HTMLElement>('[role="log"]');
      const first = log();
      if (!first || showMessage(first, quote.id)) return;
      if (!(await client.loadThrough(conversationId, quote.seq))) return;
      // the page just loaded is rendered on a coming frame
      for (let frame = 0; frame < 30; frame += 1) {
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const el = log() ?? first;
        if (showMessage(el, quote.id)) return;
      }
    },
    [client, conversationId],
  );

  // A search result picked: once this conversation shows its first page, load back to the message and show it.
  const jump = useChatState((s) => (s.jump?.conversationId === conversationId ? s.jump : null));
  const loaded = entry?.loaded ?? false;
  useEffect(() => {
    if (!jump || !loaded) return;
    let cancelled = false;
    const run = async () => {
      const shown = () => !!logRef.current && showMessage(logRef.current, jump.messageId);
      if (!shown() && (await client.loadThrough(conversationId, jump.seq))) {
        // the page just loaded is rendered on a coming frame
        for (let frame = 0; frame < 30 && !cancelled; frame += 1) {
          await new Promise((resolve) => requestAnimationFrame(resolve));
          if (shown()) break;
        }
      }
      if (!cancelled) client.store.dispatch({ type: 'jumpDone' });
    };
    void run();
    return () => {
      cancelled = true;
    };
  }, [jump, loaded, client, conversationId]);

  // Files dragged over the conversation are attached to the next message when dropped.
  const [dragging, setDragging] = useState(false);
  const dragDepth = useRef(0);
  const onDragEnter = (e: DragEvent) => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    dragDepth.current += 1;
    setDragging(true);
  };
  const onDragOver = (e: DragEvent) => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onDragLeave = (e: DragEvent) => {
    if (!dragHasFiles(e.dataTransfer)) return;
    dragDepth.current = Math.max(0, dragDepth.current - 1);
    if (dragDepth.current === 0) setDragging(false);
  };
  const onDrop = (e: DragEvent) => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    dragDepth.current = 0;
    setDragging(false);
    const files = pickedFiles(e.dataTransfer.files);
    if (files.length > 0) void client.attachFiles(conversationId, files);
  };

  const kind = summary?.kind;
  // the caller's role: the summary's own, else the one on their member entry (none once left)
  const role = myRole(summary, meId);
  const readOnly = summary?.left ?? false;
  const muted = isMuted(summary);
  const toggleMute = async () => {
    setMuting(true);
    try {
      await client.setMuted(conversationId, !muted);
    } catch (err) {
      client.store.dispatch({ type: 'notice', notice: err instanceof Error ? err.message : 'The change failed.' });
    } finally {
      setMuting(false);
    }
  };
  const ctx = useMemo<MessageContext>(() => {
    return {
      meId,
      meUsername: client.me.username,
      group: kind === 'group',
      moderator: kind === 'group' && (role === 'owner' || role === 'admin'),
      readOnly,
      usernames: new Set(people.flatMap((u) => (u.username ? [u.username.toLowerCase()] : []))),
      nameOf,
      onRetry: (cmid) => void client.retry(conversationId, cmid),
      onReply: (item: TimelineItem) => {
        if (item.id === null || item.seq === null) return;
        const quote = quoteText({ id: item.id, seq: item.seq, sender_id: item.senderId, body: item.body, deleted: false });
        setMode({ kind: 'reply', quote, authorName: nameOf(item.senderId) });
      },
      onEdit: (item) => item.id && setMode({ kind: 'edit', messageId: item.id, body: item.body }),
      onDelete: (item) => {
        if (!item.id) return;
        setMode((m) => (m?.kind === 'edit' && m.messageId === item.id ? null : m));
        void client.deleteMessage(conversationId, item.id);
      },
      onReact: (item, emoji) => item.id && void client.toggleReaction(conversationId, item.id, emoji),
      onJump: (quote, origin) => void jumpTo(quote, origin),
      loadEdits: (messageId) => client.messageEdits(conversationId, messageId),
      onBrokenAttachment: (item) => item.id && void client.refreshMessage(conversationId, item.id),
    };
  }, [meId, client, kind, role, readOnly, people, nameOf, conversationId, jumpTo]);

  return (
    <section
      className={`chat${dragging ? ' chat-dragging' : ''}`}
      aria-labelledby="chat-title"
      onDragEnter={onDragEnter}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
    >
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          Drop files to attach them
        </div>
      )}
      <header className="chat-header">
        <button type="button" className="back-button" onClick={() => openConversationRoute(null)}>
          <span aria-hidden="true">‹ </span>Back
        </button>
        <Avatar name={title} seed={conversationId} size={36} />
        <div className="chat-heading">
          <h2 id="chat-title">{title}</h2>
          {subtitle && <p className="chat-sub">{subtitle}</p>}
        </div>
        {summary && (
          <div className="chat-actions">
            <button
              type="button"
              className={`secondary small${muted ? ' is-muted' : ''}`}
              disabled={muting}
              onClick={() => void toggleMute()}
            >
              {muted ? 'Unmute' : 'Mute'}
            </button>
            {kind === 'group' && !readOnly && (
              <button type="button" className="secondary small" onClick={() => setSettingsOpen(true)}>
                Group settings
              </button>
            )}
          </div>
        )}
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
            const showSender =
              summary?.kind === 'group' &&
              !item.own &&
              item.kind === 'text' &&
              (newDay || prev.senderId !== item.senderId || prev.kind !== 'text');
            return (
              <Fragment key={item.key}>
                {newDay && (
                  // decorative: each message's <time> carries the date for assistive technology
                  <li className="day-separator" aria-hidden="true">
                    <span>{day}</span>
                  </li>
                )}
                {item.kind === 'system' ? (
                  <SystemNote item={item} nameOf={nameOf} />
                ) : (
                  <MessageBubble item={item} senderName={showSender ? nameOf(item.senderId) : null} ctx={ctx} />
                )}
              </Fragment>
            );
          })}
        </ol>
      </div>
      <TypingIndicator names={typing} />
      {readOnly ? (
        <p className="read-only-note" role="note">
          You are no longer a member of this group. Its history until then stays here.
        </p>
      ) : partnerDeleted ? (
        <p className="read-only-note" role="note">
          This account was deleted. The conversation stays here, but no one can answer.
        </p>
      ) : (
        <Composer
          key={mode?.kind === 'edit' ? `edit:${mode.messageId}` : 'draft'}
          conversationId={conversationId}
          summary={summary}
          mode={mode}
          onModeDone={endMode}
          onEditLast={() => {
            const last = [...items].reverse().find((i) => i.own && i.id !== null && !i.deleted && i.kind === 'text');
            if (last) ctx.onEdit(last);
          }}
        />
      )}
      {settingsOpen && <GroupSettingsDialog conversationId={conversationId} onClose={closeSettings} />}
    </section>
  );
}
