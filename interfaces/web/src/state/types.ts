import type { Presence } from '../api/contract.gen';
import type { Attachment, Connection, ConversationSummary, Message, Quote, Reaction, User } from '../api/types';
import type { DraftUpload } from './uploads';

export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline';

export type PresenceStatus = Presence['status'];

/** A message typed here whose send has not been acknowledged yet (or failed). */
export interface OutgoingMessage {
  client_message_id: string;
  conversation_id: string;
  sender_id: string;
  body: string;
  created_at: string;
  state: 'sending' | 'failed';
  error: string | null;
  /** The message this one answers, as shown while sending (its id goes out as `reply_to`). */
  reply_to?: Quote | null;
  /** The uploaded files it carries (their ids go out as `attachment_ids`). */
  attachments?: Attachment[];
}

/** A message to bring into view once its conversation shows it (a search result picked). */
export interface JumpTarget {
  conversationId: string;
  messageId: string;
  seq: number;
}

/**
 * A change to a stored message that the user made and the server has not acknowledged yet. It is
 * shown on top of the server's copy (optimistically) until its ack: an accepted one brings the
 * server's result, a refused one just drops the change, so the view rolls back to the server's copy.
 */
export type PendingChange =
  | { id: string; kind: 'edit'; body: string; at: string }
  | { id: string; kind: 'delete' }
  | { id: string; kind: 'react'; emoji: string; add: boolean };

export interface ConversationMessages {
  /** true once the first page was received; before that, items may hold live messages only. */
  loaded: boolean;
  /** Stored messages, unique by seq and id, ascending seq. */
  items: Message[];
  hasMoreBefore: boolean;
  loadingOlder: boolean;
}

export interface ChatState {
  me: User | null;
  connection: ConnectionState;
  /** Latest problem worth telling the user (socket or request error); null when none. */
  notice: string | null;
  /** Counts the notices given, so that the same text given again shows again after a Dismiss. */
  noticeId: number;
  conversations: Record<string, ConversationSummary>;
  messages: Record<string, ConversationMessages>;
  outbox: Record<string, OutgoingMessage[]>;
  /** conversation id -> ids of the users typing there now. */
  typing: Record<string, string[]>;
  presence: Record<string, PresenceStatus>;
  connections: Record<string, Connection>;
  activeConversationId: string | null;
  /** message id -> the user's changes to it awaiting their ack, oldest first. */
  pending: Record<string, PendingChange[]>;
  /** The users this user blocked, most recent first (`GET /api/blocks`); null until loaded. */
  blocked: User[] | null;
  /** The total unread of `GET /api/unread`, shown until the whole conversation list is loaded. */
  unreadTotal: number | null;
  /** Every page of the conversation list arrived (after each (re)connect): totals come from it. */
  listLoaded: boolean;
  /** conversation id -> the files picked for its next message (uploading, uploaded or failed). */
  uploads: Record<string, DraftUpload[]>;
  jump: JumpTarget | null;
}

export type MessagesMode = 'initial' | 'older' | 'newer';

export type ChatAction =
  | { type: 'reset'; me: User | null }
  | { type: 'me'; me: User }
  | { type: 'connectionState'; state: ConnectionState }
  | { type: 'notice'; notice: string | null }
  | { type: 'conversationsLoaded'; conversations: ConversationSummary[] }
  | { type: 'conversationUpserted'; conversation: ConversationSummary }
  | { type: 'unreadSet'; conversationId: string; unread: number }
  | { type: 'messagesLoaded'; conversationId: string; messages: Message[]; mode: MessagesMode; hasMore: boolean }
  | { type: 'olderLoading'; conversationId: string; loading: boolean }
  | { type: 'messageReceived'; message: Message }
  | { type: 'outgoingQueued'; message: OutgoingMessage }
  | { type: 'outgoingFailed'; conversationId: string; clientMessageId: string; error: string }
  | { type: 'outgoingRetried'; conversationId: string; clientMessageId: string }
  | { type: 'receipt'; kind: 'delivered' | 'read'; conversationId: string; userId: string; upToSeq: number }
  | { type: 'typing'; conversationId: string; userId: string; isTyping: boolean }
  | { type: 'presence'; userId: string; status: PresenceStatus }
  | { type: 'connectionsLoaded'; connections: Connection[] }
  | { type: 'connectionUpserted'; connection: Connection }
  | { type: 'activeConversation'; conversationId: string | null }
  /** `message_updated` (an edit or a deletion), or the message in an edit/delete ack. */
  | { type: 'messageUpdated'; message: Message }
  | { type: 'reactionsUpdated'; conversationId: string; messageId: string; reactions: Reaction[] }
  | { type: 'changeStarted'; messageId: string; change: PendingChange }
  /** An accepted change: the server's result (a message, or the reactions) replaces the guess. */
  | { type: 'changeAccepted'; conversationId: string; messageId: string; changeId: string; message?: Message; reactions?: Reaction[] }
  /** A refused change: dropped, so the message shows the server's copy again. */
  | { type: 'changeRefused'; messageId: string; changeId: string; error: string }
  | { type: 'blockedLoaded'; blocked: User[] }
  | { type: 'unreadLoaded'; unread: number }
  | { type: 'listLoaded'; loaded: boolean }
  | { type: 'uploadsAdded'; conversationId: string; uploads: DraftUpload[] }
  | { type: 'uploadProgress'; conversationId: string; localId: string; loaded: number }
  | { type: 'uploadDone'; conversationId: string; localId: string; attachment: Attachment }
  | { type: 'uploadFailed'; conversationId: string; localId: string; error: string }
  | { type: 'uploadRemoved'; conversationId: string; localId: string }
  /** The uploaded files went with a message: they leave the draft. */
  | { type: 'uploadsSent'; conversationId: string; attachmentIds: string[] }
  | { type: 'jumpRequested'; target: JumpTarget }
  | { type: 'jumpDone' };
