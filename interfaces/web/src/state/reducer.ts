import type { ConversationSummary, Member, Message, Reaction } from '../api/types';
import { refreshQuotes, supersedes } from './lifecycle';
import { mergeMessages } from './messages';
import type { ChatAction, ChatState, ConversationMessages, OutgoingMessage, PendingChange } from './types';
import { addUploads, changeUpload, MAX_ATTACHMENTS, uploaded, uploadFailed, withProgress, type DraftUpload } from './uploads';

export function initialState(me: ChatState['me'] = null): ChatState {
  return {
    me,
    connection: 'connecting',
    notice: null,
    noticeId: 0,
    conversations: {},
    messages: {},
    outbox: {},
    typing: {},
    presence: {},
    connections: {},
    activeConversationId: null,
    pending: {},
    blocked: null,
    unreadTotal: null,
    listLoaded: false,
    uploads: {},
    jump: null,
  };
}

const emptyMessages: ConversationMessages = {
  loaded: false,
  items: [],
  hasMoreBefore: true,
  loadingOlder: false,
};

function laterMessage(a: Message | null, b: Message | null): Message | null {
  if (!a) return b;
  if (!b) return a;
  return b.seq >= a.seq ? b : a;
}

/** Markers only move forward, so a (possibly older) summary never moves them back. */
function mergeMembers(previous: Member[] | undefined, next: Member[]): Member[] {
  if (!previous) return next;
  return next.map((m) => {
    const old = previous.find((p) => p.user.id === m.user.id);
    if (!old) return m;
    return {
      ...m,
      last_delivered_seq: Math.max(m.last_delivered_seq, old.last_delivered_seq),
      last_read_seq: Math.max(m.last_read_seq, old.last_read_seq),
    };
  });
}

function upsertConversation(state: ChatState, summary: ConversationSummary): ChatState {
  const previous = state.conversations[summary.id];
  const lastMessage = laterMessage(previous?.last_message ?? null, summary.last_message);
  const merged: ConversationSummary = {
    ...summary,
    members: mergeMembers(previous?.members, summary.members),
    last_message: lastMessage,
    last_message_at:
      lastMessage && lastMessage !== summary.last_message ? lastMessage.sent_at : summary.last_message_at,
  };
  const presence = { ...state.presence };
  for (const m of summary.members) {
    if (m.user.id !== state.me?.id) presence[m.user.id] = m.online ? 'online' : 'offline';
  }
  return { ...state, presence, conversations: { ...state.conversations, [summary.id]: merged } };
}

/** Stores server messages of one conversation and settles the matching outgoing ones. */
function addMessages(
  state: ChatState,
  conversationId: string,
  messages: Message[],
  update: (entry: ConversationMessages) => Partial<ConversationMessages> = () => ({}),
): ChatState {
  const entry = state.messages[conversationId] ?? emptyMessages;
  const items = mergeMessages(entry.items, messages);
  const nextEntry = { ...entry, items, ...update(entry) };

  const settled = new Set(messages.map((m) => m.client_message_id));
  const outbox = state.outbox[conversationId];
  const nextOutbox = outbox?.filter((o) => !settled.has(o.client_message_id));

  const senders = new Set(messages.map((m) => m.sender_id));
  const typists = state.typing[conversationId];
  const nextTypists = typists?.filter((id) => !senders.has(id));

  let next: ChatState = {
    ...state,
    messages: { ...state.messages, [conversationId]: nextEntry },
    outbox: nextOutbox && nextOutbox.length !== outbox.length ? { ...state.outbox, [conversationId]: nextOutbox } : state.outbox,
    typing:
      nextTypists && nextTypists.length !== typists.length ? { ...state.typing, [conversationId]: nextTypists } : state.typing,
  };

  const summary = next.conversations[conversationId];
  const newest = items.length > 0 ? items[items.length - 1] : null;
  if (summary && newest && (!summary.last_message || newest.seq > summary.last_message.seq)) {
    next = {
      ...next,
      conversations: {
        ...next.conversations,
        [conversationId]: { ...summary, last_message: newest, last_message_at: newest.sent_at },
      },
    };
  }
  return next;
}

function updateOutgoing(
  state: ChatState,
  conversationId: string,
  clientMessageId: string,
  change: Partial<OutgoingMessage>,
): ChatState {
  const outbox = state.outbox[conversationId];
  if (!outbox || !outbox.some((o) => o.client_message_id === clientMessageId)) return state;
  return {
    ...state,
    outbox: {
      ...state.outbox,
      [conversationId]: outbox.map((o) => (o.client_message_id === clientMessageId ? { ...o, ...change } : o)),
    },
  };
}

/** A stored message changed (edit, deletion, reactions): replace it, its quotes and the list's copy. */
function replaceMessage(state: ChatState, conversationId: string, messageId: string, change: (m: Message) => Message | null): ChatState {
  let next = state;
  const entry = state.messages[conversationId];
  const index = entry ? entry.items.findIndex((m) => m.id === messageId) : -1;
  if (entry && index >= 0) {
    const updated = change(entry.items[index]);
    if (updated) {
      const items = entry.items.slice();
      items[index] = updated;
      next = { ...next, messages: { ...next.messages, [conversationId]: { ...entry, items: refreshQuotes(items, updated) } } };
    }
  }
  const summary = next.conversations[conversationId];
  if (summary?.last_message?.id === messageId) {
    const updated = change(summary.last_message);
    if (updated) next = { ...next, conversations: { ...next.conversations, [conversationId]: { ...summary, last_message: updated } } };
  }
  return next;
}

function updateMessage(state: ChatState, message: Message): ChatState {
  return replaceMessage(state, message.conversation_id, message.id, (existing) =>
    supersedes(existing, message) ? message : null,
  );
}

function setReactions(state: ChatState, conversationId: string, messageId: string, reactions: Reaction[]): ChatState {
  return replaceMessage(state, conversationId, messageId, (existing) => (existing.deleted ? null : { ...existing, reactions }));
}

function dropChange(state: ChatState, messageId: string, changeId: string): ChatState {
  const changes = state.pending[messageId];
  if (!changes?.some((c) => c.id === changeId)) return state;
  const left = changes.filter((c) => c.id !== changeId);
  const pending = { ...state.pending };
  if (left.length === 0) delete pending[messageId];
  else pending[messageId] = left;
  return { ...state, pending };
}

function addChange(state: ChatState, messageId: string, change: PendingChange): ChatState {
  return { ...state, pending: { ...state.pending, [messageId]: [...(state.pending[messageId] ?? []), change] } };
}

function withNotice(state: ChatState, notice: string | null): ChatState {
  if (notice === null) return state.notice === null ? state : { ...state, notice };
  return { ...state, notice, noticeId: state.noticeId + 1 };
}

function setTyping(state: ChatState, conversationId: string, userId: string, isTyping: boolean): ChatState {
  const current = state.typing[conversationId] ?? [];
  const has = current.includes(userId);
  if (has === isTyping) return state;
  const next = isTyping ? [...current, userId] : current.filter((id) => id !== userId);
  return { ...state, typing: { ...state.typing, [conversationId]: next } };
}

function setUploads(state: ChatState, conversationId: string, list: DraftUpload[]): ChatState {
  if (list === state.uploads[conversationId]) return state;
  const uploads = { ...state.uploads };
  if (list.length === 0) delete uploads[conversationId];
  else uploads[conversationId] = list;
  return { ...state, uploads };
}

function changeDraft(state: ChatState, conversationId: string, localId: string, change: (u: DraftUpload) => DraftUpload): ChatState {
  const list = state.uploads[conversationId];
  return list ? setUploads(state, conversationId, changeUpload(list, localId, change)) : state;
}

export function reducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'reset':
      return initialState(action.me);
    case 'me':
      return { ...state, me: action.me };
    case 'connectionState':
      return state.connection === action.state ? state : { ...state, connection: action.state };
    case 'notice':
      // the same problem reported again (a reconnect attempt failing anew) stays dismissed
      return action.notice === state.notice ? state : withNotice(state, action.notice);
    case 'conversationsLoaded':
      return action.conversations.reduce(upsertConversation, state);
    case 'conversationUpserted':
      return upsertConversation(state, action.conversation);
    case 'unreadSet': {
      const summary = state.conversations[action.conversationId];
      if (!summary || summary.unread_count === action.unread) return state;
      // mentions are counted among the unread messages: none unread, none unread mentioning me
      const mentions = action.unread === 0 ? 0 : (summary.mention_count ?? 0);
      return {
        ...state,
        conversations: {
          ...state.conversations,
          [summary.id]: { ...summary, unread_count: action.unread, mention_count: mentions },
        },
      };
    }
    case 'messagesLoaded':
      return addMessages(state, action.conversationId, action.messages, (entry) => {
        if (action.mode === 'initial') return { loaded: true, hasMoreBefore: action.hasMore };
        if (action.mode === 'older') return { hasMoreBefore: action.hasMore, loadingOlder: false };
        return { loaded: entry.loaded };
      });
    case 'olderLoading': {
      const entry = state.messages[action.conversationId];
      if (!entry) return state;
      return {
        ...state,
        messages: { ...state.messages, [action.conversationId]: { ...entry, loadingOlder: action.loading } },
      };
    }
    case 'messageReceived':
      return addMessages(state, action.message.conversation_id, [action.message]);
    case 'outgoingQueued': {
      const id = action.message.conversation_id;
      const outbox = state.outbox[id] ?? [];
      if (outbox.some((o) => o.client_message_id === action.message.client_message_id)) return state;
      return { ...state, outbox: { ...state.outbox, [id]: [...outbox, action.message] } };
    }
    case 'outgoingFailed':
      return updateOutgoing(state, action.conversationId, action.clientMessageId, {
        state: 'failed',
        error: action.error,
      });
    case 'outgoingRetried':
      return updateOutgoing(state, action.conversationId, action.clientMessageId, {
        state: 'sending',
        error: null,
      });
    case 'receipt': {
      const summary = state.conversations[action.conversationId];
      if (!summary) return state;
      const members = summary.members.map((m) => {
        if (m.user.id !== action.userId) return m;
        return {
          ...m,
          last_delivered_seq: Math.max(m.last_delivered_seq, action.upToSeq),
          last_read_seq: action.kind === 'read' ? Math.max(m.last_read_seq, action.upToSeq) : m.last_read_seq,
        };
      });
      return { ...state, conversations: { ...state.conversations, [summary.id]: { ...summary, members } } };
    }
    case 'typing':
      return setTyping(state, action.conversationId, action.userId, action.isTyping);
    case 'presence':
      if (state.presence[action.userId] === action.status) return state;
      return { ...state, presence: { ...state.presence, [action.userId]: action.status } };
    case 'connectionsLoaded':
      return { ...state, connections: Object.fromEntries(action.connections.map((c) => [c.id, c])) };
    case 'connectionUpserted':
      return { ...state, connections: { ...state.connections, [action.connection.id]: action.connection } };
    case 'activeConversation':
      return { ...state, activeConversationId: action.conversationId };
    case 'messageUpdated':
      return updateMessage(state, action.message);
    case 'reactionsUpdated':
      return setReactions(state, action.conversationId, action.messageId, action.reactions);
    case 'changeStarted':
      return addChange(state, action.messageId, action.change);
    case 'changeAccepted': {
      let next = dropChange(state, action.messageId, action.changeId);
      if (action.message) next = updateMessage(next, action.message);
      if (action.reactions) next = setReactions(next, action.conversationId, action.messageId, action.reactions);
      return next;
    }
    case 'changeRefused': {
      const next = dropChange(state, action.messageId, action.changeId);
      return next === state ? state : withNotice(next, action.error);
    }
    case 'blockedLoaded':
      return { ...state, blocked: action.blocked };
    case 'unreadLoaded':
      return state.unreadTotal === action.unread ? state : { ...state, unreadTotal: action.unread };
    case 'listLoaded':
      return state.listLoaded === action.loaded ? state : { ...state, listLoaded: action.loaded };
    case 'uploadsAdded': {
      const { list, refused } = addUploads(state.uploads[action.conversationId] ?? [], action.uploads);
      const next = setUploads(state, action.conversationId, list);
      return refused.length === 0 ? next : withNotice(next, `A message can carry at most ${MAX_ATTACHMENTS} files.`);
    }
    case 'uploadProgress':
      return changeDraft(state, action.conversationId, action.localId, (u) => withProgress(u, action.loaded));
    case 'uploadDone':
      return changeDraft(state, action.conversationId, action.localId, (u) => uploaded(u, action.attachment));
    case 'uploadFailed': {
      const next = changeDraft(state, action.conversationId, action.localId, (u) => uploadFailed(u, action.error));
      const failed = next.uploads[action.conversationId]?.find((u) => u.localId === action.localId);
      return next === state || !failed ? state : withNotice(next, `${failed.filename}: ${action.error}`);
    }
    case 'uploadRemoved': {
      const list = state.uploads[action.conversationId];
      return list ? setUploads(state, action.conversationId, list.filter((u) => u.localId !== action.localId)) : state;
    }
    case 'uploadsSent': {
      const list = state.uploads[action.conversationId];
      if (!list) return state;
      const sent = new Set(action.attachmentIds);
      return setUploads(state, action.conversationId, list.filter((u) => !(u.attachment && sent.has(u.attachment.id))));
    }
    case 'jumpRequested':
      return { ...state, jump: action.target };
    case 'jumpDone':
      return state.jump === null ? state : { ...state, jump: null };
  }
}
