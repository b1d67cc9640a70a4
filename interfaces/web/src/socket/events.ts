// Socket.IO events of the Parley contract, section 2: every payload, ack and server event is a type
// generated from the server's JSON Schemas (../api/contract.gen.ts); only the event names are listed here.
import type {
  AddMembers,
  Connection,
  ConversationAck,
  ConversationRef,
  ConversationsAck,
  ConversationSummary,
  Done,
  EditMessage,
  EditsAck,
  ErrorDetail as ContractError,
  GetConversations,
  GetMessages,
  MarkUpTo,
  MemberRef,
  Message,
  MessageAck,
  MessageRef,
  MessagesAck,
  MessagesDelivered,
  MessagesRead,
  MuteConversation,
  Presence,
  React,
  ReactionsAck,
  ReactionsUpdated,
  ReadAck,
  RenameConversation,
  SearchAck,
  SearchMessages,
  SendMessage,
  SetMemberRole,
  StartConversation,
  Typing,
} from '../api/contract.gen';

/** Codes the client makes itself for a request that got no usable ack (never sent by the server). */
export type ClientErrorCode = 'offline' | 'timeout' | 'bad_ack';

/** An ack's error: the server's (contract `Error`), or one of the client's own. */
export type AckError = Omit<ContractError, 'code'> & { code: ContractError['code'] | ClientErrorCode };

/** A failed ack: the contract's `Refused`, widened to the client's own codes. */
export interface Failed {
  ok: false;
  error: AckError;
}

export interface ClientEvents {
  start_conversation: { payload: StartConversation; ack: ConversationAck };
  join_conversation: { payload: ConversationRef; ack: ConversationAck };
  leave_conversation: { payload: ConversationRef; ack: Done };
  send_message: { payload: SendMessage; ack: MessageAck };
  edit_message: { payload: EditMessage; ack: MessageAck };
  get_message_edits: { payload: MessageRef; ack: EditsAck };
  delete_message: { payload: MessageRef; ack: MessageAck };
  react: { payload: React; ack: ReactionsAck };
  typing_start: { payload: ConversationRef; ack: Done };
  typing_stop: { payload: ConversationRef; ack: Done };
  get_conversations: { payload: GetConversations; ack: ConversationsAck };
  get_messages: { payload: GetMessages; ack: MessagesAck };
  mark_as_delivered: { payload: MarkUpTo; ack: Done };
  mark_as_read: { payload: MarkUpTo; ack: ReadAck };
  add_members: { payload: AddMembers; ack: ConversationAck };
  remove_member: { payload: MemberRef; ack: ConversationAck };
  leave_group: { payload: ConversationRef; ack: ConversationAck };
  rename_conversation: { payload: RenameConversation; ack: ConversationAck };
  set_member_role: { payload: SetMemberRole; ack: ConversationAck };
  mute_conversation: { payload: MuteConversation; ack: ConversationAck };
  search_messages: { payload: SearchMessages; ack: SearchAck };
}

export type ClientEventName = keyof ClientEvents;
export type PayloadOf<E extends ClientEventName> = ClientEvents[E]['payload'];
/** The single acknowledgement object of a client-to-server event. */
export type AckOf<E extends ClientEventName> = ClientEvents[E]['ack'] | Failed;

export interface ServerEvents {
  message_new: Message;
  message_updated: Message;
  reactions_updated: ReactionsUpdated;
  conversation_updated: ConversationSummary;
  messages_delivered: MessagesDelivered;
  messages_read: MessagesRead;
  typing: Typing;
  presence: Presence;
  connection_updated: Connection;
}

/** The `data` of a refused handshake (`connect_error`). */
export type ConnectErrorData = Pick<ContractError, 'code' | 'message'>;
