import type { Attachment, ConversationSummary, Member, Message, MessageStatus, Quote, Reaction, SystemChange, User } from '../api/types';
import { withPending } from './lifecycle';
import type { ChatState, OutgoingMessage, PendingChange } from './types';

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

/** Everyone who can be named in a conversation: its members, then those who left or were removed. */
export function knownUsers(c: ConversationSummary | undefined): User[] {
  if (!c) return [];
  return [...c.members.map((m) => m.user), ...(c.former_members ?? [])];
}

export function displayNameOf(state: ChatState, conversationId: string, userId: string): string {
  const known = knownUsers(state.conversations[conversationId]).find((u) => u.id === userId);
  if (known) return known.display_name;
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
  /** The stored message's id; null while it is being sent. */
  id: string | null;
  seq: number | null;
  kind: Message['kind'];
  body: string;
  edited: boolean;
  deleted: boolean;
  replyTo: Quote | null;
  reactions: Reaction[];
  attachments: Attachment[];
  mentions: string[];
  system: SystemChange | null;
  /** Some change of the user's to it awaits the server's ack. */
  changing: boolean;
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
    id: null,
    seq: null,
    kind: 'text',
    body: o.body,
    edited: false,
    deleted: false,
    replyTo: o.reply_to ?? null,
    reactions: [],
    attachments: o.attachments ?? [],
    mentions: [],
    system: null,
    changing: false,
    senderId: o.sender_id,
    sentAt: o.created_at,
    own: true,
    clientMessageId: o.client_message_id,
    state: o.state === 'failed' ? 'Failed' : 'Sending',
    error: o.error,
  };
}

/**
 * Stored messages in seq order (with the user's unacknowledged changes shown), then the
 * not-yet-stored outgoing ones in the order typed.
 */
export function timeline(
  items: readonly Message[],
  outbox: readonly OutgoingMessage[] | undefined,
  summary: ConversationSummary | undefined,
  meId: string,
  pending: Readonly<Record<string, PendingChange[]>> = {},
): TimelineItem[] {
  const stored = items.map<TimelineItem>((stored) => {
    const m = withPending(stored, pending[stored.id], meId);
    const own = m.sender_id === meId && m.kind === 'text';
    return {
      // own messages keep the key they had while sending, so the bubble is not re-created
      key: own ? `c:${m.client_message_id}` : `m:${m.id}`,
      id: m.id,
      seq: m.seq,
      kind: m.kind,
      body: m.body,
      edited: m.edited_at !== null && !m.deleted,
      deleted: m.deleted,
      replyTo: m.reply_to,
      reactions: m.reactions,
      attachments: m.attachments ?? [],
      mentions: m.mentions ?? [],
      system: m.system,
      changing: (pending[stored.id]?.length ?? 0) > 0,
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
