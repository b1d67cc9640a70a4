import { memo, useMemo } from 'react';
import type { MessageVersion } from '../api/contract.gen';
import type { Quote } from '../api/types';
import type { TimelineItem } from '../state/selectors';
import { formatFull, formatTime } from '../util/time';
import { EditHistory } from './EditHistory';
import { MessageAttachments } from './MessageAttachments';
import { MessageMenu } from './MessageMenu';
import { MessageText } from './MessageText';
import { QuoteBlock } from './QuoteBlock';
import { ReactionChips } from './ReactionChips';

/** What a message needs to know about where it is shown, and what it can ask for. */
export interface MessageContext {
  meId: string;
  meUsername: string | null;
  group: boolean;
  /** The user is a group's owner or admin: they may delete anyone's message. */
  moderator: boolean;
  /** The user left the conversation (or was removed): its history is shown without actions. */
  readOnly: boolean;
  /** Lower-case usernames of the people who can be mentioned here. */
  usernames: ReadonlySet<string>;
  nameOf: (userId: string) => string;
  onRetry: (clientMessageId: string) => void;
  onReply: (item: TimelineItem) => void;
  onEdit: (item: TimelineItem) => void;
  onDelete: (item: TimelineItem) => void;
  onReact: (item: TimelineItem, emoji: string) => void;
  /** An image of the message did not load (an expired signed URL): fetch the message again. */
  onBrokenAttachment: (item: TimelineItem) => void;
  /** Shows the original of a reply; `origin` is the clicked quote (inside the log). */
  onJump: (quote: Quote, origin: HTMLElement) => void;
  /** Every version of the message's text (the original first). */
  loadEdits: (messageId: string) => Promise<MessageVersion[]>;
}

interface Props {
  item: TimelineItem;
  senderName: string | null;
  ctx: MessageContext;
}

/**
 * One message: the body as plain text (never HTML) with mentions, the quote it replies to, local
 * time, `edited`, the state of the user's own messages, reactions and the `More actions` menu; a
 * deleted one only says so.
 */
export const MessageBubble = memo(function MessageBubble({ item, senderName, ctx }: Props) {
  const stateClass = item.state ? ` msg-${item.state.toLowerCase()}` : '';
  const mentionsMe = item.mentions.includes(ctx.meId);
  const chosen = useMemo(
    () => new Set(item.reactions.filter((r) => r.user_ids.includes(ctx.meId)).map((r) => r.emoji)),
    [item.reactions, ctx.meId],
  );
  const stored = item.id !== null;
  const classes = [
    'msg',
    item.own ? 'msg-own' : 'msg-other',
    stateClass.trim(),
    item.deleted ? 'msg-deleted' : '',
    mentionsMe && !item.deleted ? 'msg-mentions-me' : '',
    item.changing ? 'msg-changing' : '',
    item.attachments.length > 0 && !item.deleted ? 'msg-has-attachments' : '',
  ].filter(Boolean);
  return (
    <li className={classes.join(' ')} data-seq={item.seq ?? undefined} data-message-id={item.id ?? undefined} tabIndex={-1}>
      <div className="msg-row">
        <div className="bubble">
          {senderName && <div className="msg-sender">{senderName}</div>}
          {item.replyTo && !item.deleted && (
            <QuoteBlock
              quote={item.replyTo}
              authorName={ctx.nameOf(item.replyTo.sender_id)}
              onJump={stored ? ctx.onJump : undefined}
            />
          )}
          {item.deleted ? (
            <p className="msg-body msg-tombstone">This message was deleted</p>
          ) : (
            <>
              <MessageAttachments attachments={item.attachments} onBroken={stored ? () => ctx.onBrokenAttachment(item) : undefined} />
              {(item.body !== '' || item.attachments.length === 0) && (
                <MessageText
                  body={item.body}
                  usernames={ctx.usernames}
                  meUsername={ctx.meUsername}
                  mentionsMe={mentionsMe}
                  group={ctx.group}
                />
              )}
            </>
          )}
          <div className="msg-meta">
            <time dateTime={item.sentAt} title={formatFull(item.sentAt)}>
              {formatTime(item.sentAt)}
            </time>
            {item.edited &&
              (item.id && !item.changing ? (
                <EditHistory load={() => ctx.loadEdits(item.id!)} />
              ) : (
                <span className="msg-edited">edited</span>
              ))}
            {item.state && (
              <span className="msg-state" title={item.error ?? undefined}>
                {item.state}
              </span>
            )}
          </div>
        </div>
        {stored && !item.deleted && !ctx.readOnly && (
          <MessageMenu
            canEdit={item.own}
            canDelete={item.own || ctx.moderator}
            chosen={chosen}
            onReply={() => ctx.onReply(item)}
            onEdit={() => ctx.onEdit(item)}
            onDelete={() => ctx.onDelete(item)}
            onReact={(emoji) => ctx.onReact(item, emoji)}
          />
        )}
      </div>
      {!item.deleted && (
        <ReactionChips
          reactions={item.reactions}
          meId={ctx.meId}
          nameOf={ctx.nameOf}
          onToggle={(emoji) => ctx.onReact(item, emoji)}
          readOnly={ctx.readOnly}
        />
      )}
      {item.state === 'Failed' && (
        <div className="msg-retry">
          {item.error && <span className="msg-error">{item.error}</span>}
          <button type="button" className="link-button" onClick={() => ctx.onRetry(item.clientMessageId)}>
            Retry
          </button>
        </div>
      )}
    </li>
  );
});
