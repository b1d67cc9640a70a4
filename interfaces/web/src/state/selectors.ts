import type { ConversationSummary, Member, Message, MessageStatus } from '../api/types';
import type { ChatState, OutgoingMessage } from './types';

function activityTime(c: ConversationSummary): number {
  const t = Date.parse(c.last_message_at ?? c.created_at);
  return Number.isNaN(t) ? 0 : t;
}

/** Newest activity (last message, else creation) first. */
export function sortConversations(conversations: Record<string, ConversationSummary>): ConversationSummary[] {
  return Object.values(conversations).sort((a, b) => {
    const diff = activityTime(b) - activityTime(a);
    return diff !== 0 ? diff : a.id.localeCompare(b.id);
  });
}

export function otherMembers(c: ConversationSummary, meId: string | undefined): Member[] {
  return c.members.filter((m) => m.user.id !== meId);
}

export function conversationTitle(c: ConversationSummary, meId: string | undefined): string {
  if (c.kind === 'group') {
    if (c.title) return c.title;
    const names = otherMembers(c, meId).map((m) => m.user.display_name);
    return names.length > 0 ? names.join(', ') : 'Group';
  }
  const other = otherMembers(c, meId)[0];
  return other?.user.display_name ?? c.title ?? 'Conversation';
}

export function displayNameOf(state: ChatState, conversationId: string, userId: string): string {
  const member = state.conversations[conversationId]?.members.find((m) => m.user.id === userId);
  if (member) return member.user.display_name;
  for (const c of Object.values(state.connections)) {
    if (c.requester.id === userId) return c.requester.display_name;
    if (c.addressee.id === userId) return c.addressee.display_name;
  }
  return 'Someone';
}

const statusRank: Record<MessageStatus, number> = { sent: 0, delivered: 1, read: 2 };

/**
 * The status of one of my messages: read once every other member's read marker reaches it, else
 * delivered once every other member's delivery marker does, else sent; never below what the server
 * reported on the message itself.
 */
export function ownMessageStatus(c: ConversationSummary | undefined, message: Message, meId: string): MessageStatus {
  let fromMarkers: MessageStatus = 'sent';
  if (c) {
    const others = otherMembers(c, meId);
    if (others.length > 0) {
      if (others.every((m) => m.last_read_seq >= message.seq)) fromMarkers = 'read';
      else if (others.every((m) => m.last_delivered_seq >= message.seq)) fromMarkers = 'delivered';
    }
  }
  return statusRank[fromMarkers] >= statusRank[message.status] ? fromMarkers : message.status;
}

export type DisplayState = 'Sending' | 'Sent' | 'Delivered' | 'Read' | 'Failed';

export interface TimelineItem {
  key: string;
  seq: number | null;
  body: string;
  senderId: string;
  sentAt: string;
  own: boolean;
  clientMessageId: string;
  /** Only for my own messages. */
  state: DisplayState | null;
  error: string | null;
}

const label: Record<MessageStatus, DisplayState> = { sent: 'Sent', delivered: 'Delivered', read: 'Read' };

function fromOutgoing(o: OutgoingMessage): TimelineItem {
  return {
    key: `c:${o.client_message_id}`,
    seq: null,
    body: o.body,
    senderId: o.sender_id,
    sentAt: o.created_at,
    own: true,
    clientMessageId: o.client_message_id,
    state: o.state === 'failed' ? 'Failed' : 'Sending',
    error: o.error,
  };
}

/** Stored messages in seq order, then the not-yet-stored outgoing ones in the order typed. */
export function timeline(
  items: readonly Message[],
  outbox: readonly OutgoingMessage[] | undefined,
  summary: ConversationSummary | undefined,
  meId: string,
): TimelineItem[] {
  const stored = items.map<TimelineItem>((m) => {
    const own = m.sender_id === meId;
    return {
      // own messages keep the key they had while sending, so the bubble is not re-created
      key: own ? `c:${m.client_message_id}` : `m:${m.id}`,
      seq: m.seq,
      body: m.body,
      senderId: m.sender_id,
      sentAt: m.sent_at,
      own,
      clientMessageId: m.client_message_id,
      state: own ? label[ownMessageStatus(summary, m, meId)] : null,
      error: null,
    };
  });
  return [...stored, ...(outbox ?? []).map(fromOutgoing)];
}

export function typingNames(state: ChatState, conversationId: string): string[] {
  return (state.typing[conversationId] ?? [])
    .filter((id) => id !== state.me?.id)
    .map((id) => displayNameOf(state, conversationId, id));
}
