import type { ConversationSummary } from '../api/types';
import type { ChatState } from '../state/types';

function myMember(c: ConversationSummary | undefined, meId: string) {
  return c?.members.find((m) => m.user.id === meId);
}

/**
 * The seq to mark as read in an open conversation: the last loaded one, when some message from
 * another member above my read marker is loaded (or the server counts unread ones). Else null.
 */
export function readCandidate(state: ChatState, conversationId: string, meId: string): number | null {
  const entry = state.messages[conversationId];
  if (!entry?.loaded || entry.items.length === 0) return null;
  const summary = state.conversations[conversationId];
  const myRead = myMember(summary, meId)?.last_read_seq ?? 0;
  const last = entry.items[entry.items.length - 1].seq;
  if (last <= myRead) return null;
  const unseenFromOthers = entry.items.some((m) => m.seq > myRead && m.sender_id !== meId);
  return unseenFromOthers || (summary?.unread_count ?? 0) > 0 ? last : null;
}

/**
 * The seq to mark as delivered in a conversation: the last known one, when a message from another
 * member above my delivery marker has reached this client. Else null.
 */
export function deliveredCandidate(state: ChatState, conversationId: string, meId: string): number | null {
  const summary = state.conversations[conversationId];
  const myDelivered = myMember(summary, meId)?.last_delivered_seq ?? 0;
  const items = state.messages[conversationId]?.items ?? [];
  const lastLoaded = items.length > 0 ? items[items.length - 1].seq : 0;
  const lastSummary = summary?.last_message?.seq ?? 0;
  const last = Math.max(lastLoaded, lastSummary);
  if (last <= myDelivered) return null;
  const fromOthers =
    (summary?.last_message && summary.last_message.sender_id !== meId && lastSummary > myDelivered) ||
    (summary?.unread_count ?? 0) > 0 ||
    items.some((m) => m.seq > myDelivered && m.sender_id !== meId);
  return fromOthers ? last : null;
}
