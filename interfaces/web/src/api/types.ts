// Wire shapes from the Parley contract, section 3.

export interface User {
  id: string;
  username: string;
  display_name: string;
  created_at: string;
}

export type ConnectionStatus = 'pending' | 'connected' | 'declined' | 'removed';

export interface Connection {
  id: string;
  requester: User;
  addressee: User;
  status: ConnectionStatus;
  created_at: string;
  updated_at: string;
}

export interface Member {
  user: User;
  last_delivered_seq: number;
  last_read_seq: number;
  online: boolean;
}

export type MessageStatus = 'sent' | 'delivered' | 'read';

export interface Message {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  body: string;
  client_message_id: string;
  sent_at: string;
  status: MessageStatus;
}

export interface ConversationSummary {
  id: string;
  kind: 'direct' | 'group';
  title: string | null;
  members: Member[];
  last_message: Message | null;
  last_message_at: string | null;
  unread_count: number;
  created_at: string;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  [extra: string]: unknown;
}
