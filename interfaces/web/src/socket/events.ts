// Socket.IO events of the Parley contract, section 2.
import type { Connection, ConversationSummary, Message } from '../api/types';

export interface AckError {
  code: string;
  message: string;
  retry_after_ms?: number;
  [extra: string]: unknown;
}

/** The single acknowledgement object of every client-to-server event. */
export type Ack<T> = ({ ok: true } & T) | { ok: false; error: AckError };

type Empty = Record<never, never>;

export interface ClientEvents {
  start_conversation: {
    payload: { user_ids: string[]; title?: string };
    result: { conversation: ConversationSummary };
  };
  join_conversation: {
    payload: { conversation_id: string };
    result: { conversation: ConversationSummary };
  };
  leave_conversation: { payload: { conversation_id: string }; result: Empty };
  send_message: {
    payload: { conversation_id: string; client_message_id: string; body: string };
    result: { message: Message };
  };
  typing_start: { payload: { conversation_id: string }; result: Empty };
  typing_stop: { payload: { conversation_id: string }; result: Empty };
  get_conversations: {
    payload: { limit?: number; before?: string };
    result: { conversations: ConversationSummary[]; next_cursor: string | null };
  };
  get_messages: {
    payload: { conversation_id: string; before_seq?: number; after_seq?: number; limit?: number };
    result: { messages: Message[]; has_more: boolean };
  };
  mark_as_delivered: { payload: { conversation_id: string; up_to_seq: number }; result: Empty };
  mark_as_read: {
    payload: { conversation_id: string; up_to_seq: number };
    result: { unread_count: number };
  };
}

export type ClientEventName = keyof ClientEvents;
export type PayloadOf<E extends ClientEventName> = ClientEvents[E]['payload'];
export type AckOf<E extends ClientEventName> = Ack<ClientEvents[E]['result']>;

export interface ReceiptEvent {
  conversation_id: string;
  user_id: string;
  up_to_seq: number;
  delivered_at?: string;
  read_at?: string;
}

export interface TypingEvent {
  conversation_id: string;
  user_id: string;
  is_typing: boolean;
}

export interface PresenceEvent {
  user_id: string;
  status: 'online' | 'offline';
  last_seen_at?: string | null;
}

export interface ServerEvents {
  message_new: Message;
  conversation_updated: ConversationSummary;
  messages_delivered: ReceiptEvent;
  messages_read: ReceiptEvent;
  typing: TypingEvent;
  presence: PresenceEvent;
  connection_updated: Connection;
}

export interface ConnectErrorData {
  code: string;
  message: string;
}
