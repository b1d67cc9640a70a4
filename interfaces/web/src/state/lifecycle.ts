// A message's life after it is sent (contract section 6): edits, deletion, reactions, and the
// user's own changes shown before the server acknowledges them. Pure functions, used by the reducer
// and the selectors.
import type { Message, Quote, Reaction } from '../api/types';
import type { PendingChange } from './types';

/** The longest quoted text (contract: the first 200 code points of the body). */
export const QUOTE_CODE_POINTS = 200;

/** A quote's text as the server makes it: the first 200 code points of the body, "" once deleted. */
export function quoteText(q: Quote): Quote {
  return { ...q, body: q.deleted ? '' : [...q.body].slice(0, QUOTE_CODE_POINTS).join('') };
}

/** How a reply quotes `m` now. */
export function quoteOf(m: Message): Quote {
  return quoteText({ id: m.id, seq: m.seq, sender_id: m.sender_id, body: m.body, deleted: m.deleted });
}

/** What a deletion leaves of a message (contract section 6), as the server's tombstone has it. */
export function tombstone(m: Message): Message {
  return {
    ...m,
    body: '',
    deleted: true,
    edited_at: null,
    reply_to: null,
    mentions: [],
    reactions: [],
    attachments: [],
  };
}

function editedAtMs(m: Message): number {
  if (!m.edited_at) return -Infinity;
  const t = Date.parse(m.edited_at);
  return Number.isNaN(t) ? -Infinity : t;
}

/**
 * Whether `incoming` may replace `existing` (the same message): a deletion is final, and an edit
 * never gives way to an older version of the text (an ack and an event may cross).
 */
export function supersedes(existing: Message, incoming: Message): boolean {
  if (existing.deleted && !incoming.deleted) return false;
  if (!incoming.deleted && editedAtMs(incoming) < editedAtMs(existing)) return false;
  return true;
}

/** The reactions after `userId` adds (or removes) `emoji`: first-reaction order, reacting order. */
export function toggleReaction(reactions: readonly Reaction[], emoji: string, userId: string, add: boolean): Reaction[] {
  const existing = reactions.find((r) => r.emoji === emoji);
  if (add) {
    if (!existing) return [...reactions, { emoji, user_ids: [userId] }];
    if (existing.user_ids.includes(userId)) return reactions as Reaction[];
    return reactions.map((r) => (r === existing ? { ...r, user_ids: [...r.user_ids, userId] } : r));
  }
  if (!existing || !existing.user_ids.includes(userId)) return reactions as Reaction[];
  const left = existing.user_ids.filter((id) => id !== userId);
  return left.length === 0
    ? reactions.filter((r) => r !== existing)
    : reactions.map((r) => (r === existing ? { ...r, user_ids: left } : r));
}

/** The message as the user sees it: the server's copy with the user's unacknowledged changes on top. */
export function withPending(m: Message, changes: readonly PendingChange[] | undefined, meId: string): Message {
  if (!changes || changes.length === 0) return m;
  let view = m;
  for (const change of changes) {
    if (view.deleted) break;
    if (change.kind === 'delete') view = tombstone(view);
    else if (change.kind === 'edit') view = { ...view, body: change.body, edited_at: view.edited_at ?? change.at };
    else view = { ...view, reactions: toggleReaction(view.reactions, change.emoji, meId, change.add) };
  }
  return view;
}

/** Whether `userId` has reacted with `emoji` on the message as shown. */
export function hasReacted(m: Message, emoji: string, userId: string): boolean {
  return m.reactions.some((r) => r.emoji === emoji && r.user_ids.includes(userId));
}

/** Replies show their original as it is now: refresh the quotes of `updated` in `items`. */
export function refreshQuotes(items: readonly Message[], updated: Message): Message[] {
  if (!items.some((m) => m.reply_to?.id === updated.id)) return items as Message[];
  const quote = quoteOf(updated);
  return items.map((m) => (m.reply_to?.id === updated.id ? { ...m, reply_to: quote } : m));
}
