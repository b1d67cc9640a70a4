// Wire objects as a v2 server sends them (every field of section 3, defaults included).
import type { ConversationSummary, Member, Message, User } from '../src/api/types';

let counter = 0;
const uuid = () => {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
};

export function user(name: string): User {
  return {
    id: uuid(),
    username: name,
    display_name: name[0].toUpperCase() + name.slice(1),
    created_at: '2024-01-01T00:00:00Z',
    deleted: false,
  };
}

export function member(u: User, delivered = 0, read = 0, online = false): Member {
  return { user: u, role: 'member', last_delivered_seq: delivered, last_read_seq: read, online };
}

export function message(conversationId: string, seq: number, sender: User, extra: Partial<Message> = {}): Message {
  return {
    id: `msg-${conversationId}-${seq}`,
    conversation_id: conversationId,
    seq,
    sender_id: sender.id,
    kind: 'text',
    body: `message ${seq}`,
    client_message_id: `cmid-${conversationId}-${seq}`,
    sent_at: new Date(Date.UTC(2024, 0, 1, 12, 0, seq)).toISOString(),
    edited_at: null,
    deleted: false,
    reply_to: null,
    mentions: [],
    reactions: [],
    attachments: [],
    system: null,
    status: 'sent',
    ...extra,
  };
}

export function summary(members: Member[], extra: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    id: uuid(),
    kind: members.length > 2 ? 'group' : 'direct',
    title: null,
    members,
    former_members: [],
    role: 'member',
    left: false,
    muted_until: null,
    last_message: null,
    last_message_at: null,
    unread_count: 0,
    mention_count: 0,
    created_at: '2024-01-01T00:00:00Z',
    ...extra,
  };
}
