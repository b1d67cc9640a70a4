"""The wire contract's messages, declared once: what each socket event takes and acknowledges, what
each server event carries, what each HTTP endpoint takes and answers. The shapes they carry are
projections/shapes.py's; the requests are interfaces/schemas.py's.

From these declarations come the published documents (interfaces/api_documents.py: OpenAPI 3.1 at
`/api/openapi.json`, AsyncAPI 3 at `/api/asyncapi.json`), the web client's TypeScript types (through
the JSON Schema written by `python -m interfaces.contract_schema`), and the tests' checks of every
payload (tests/support/contract.py validates against them).
"""

from dataclasses import dataclass
from typing import Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one below Python 3.12

from interfaces import schemas
from projections.shapes import (
    SHAPES,
    STRICT,
    Attachment,
    Connection,
    ConversationSummary,
    Message,
    MessagesDelivered,
    MessagesRead,
    MessageVersion,
    Presence,
    Reaction,
    ReactionsUpdated,
    Role,
    SearchResult,
    Timestamp,
    User,
    Uuid,
)

# -- errors -------------------------------------------------------------------------------------------
ErrorCode = Literal[
    "unauthorized",
    "forbidden",
    "validation_error",
    "not_found",
    "not_a_member",
    "not_connected",
    "user_not_found",
    "username_taken",
    "invalid_credentials",
    "connection_exists",
    "invalid_state",
    "rate_limited",
    "too_large",
    "internal",
]


@with_config(STRICT)
class ErrorDetail(TypedDict):
    code: ErrorCode
    message: str
    retry_after_ms: NotRequired[int]


@with_config(STRICT)
class ErrorBody(TypedDict):
    """Every HTTP error's body."""

    error: ErrorDetail


@with_config(STRICT)
class Refused(TypedDict):
    """Every socket event's ack when it fails."""

    ok: Literal[False]
    error: ErrorDetail


# -- socket acks (on success) ---------------------------------------------------------------------------
@with_config(STRICT)
class Done(TypedDict):
    ok: Literal[True]


@with_config(STRICT)
class ConversationAck(TypedDict):
    ok: Literal[True]
    conversation: ConversationSummary


@with_config(STRICT)
class MessageAck(TypedDict):
    ok: Literal[True]
    message: Message


@with_config(STRICT)
class ConversationsAck(TypedDict):
    ok: Literal[True]
    conversations: list[ConversationSummary]
    next_cursor: str | None


@with_config(STRICT)
class MessagesAck(TypedDict):
    ok: Literal[True]
    messages: list[Message]
    has_more: bool


@with_config(STRICT)
class ReadAck(TypedDict):
    ok: Literal[True]
    unread_count: int


@with_config(STRICT)
class EditsAck(TypedDict):
    """`get_message_edits`: every version of the text, oldest (the original) first; [] once deleted."""

    ok: Literal[True]
    versions: list[MessageVersion]


@with_config(STRICT)
class ReactionsAck(TypedDict):
    """`react`: the message's reactions after the change."""

    ok: Literal[True]
    reactions: list[Reaction]


@with_config(STRICT)
class SearchAck(TypedDict):
    """`search_messages`: newest first; pass `next_cursor` back as `before` (null at the end)."""

    ok: Literal[True]
    results: list[SearchResult]
    next_cursor: str | None


# -- server events ----------------------------------------------------------------------------------
@with_config(STRICT)
class Typing(TypedDict):
    conversation_id: Uuid
    user_id: Uuid
    is_typing: bool


@dataclass(frozen=True)
class ServerEvent:
    name: str
    payload: Any
    to: str  # who gets it (the contract's section 2.2)


SERVER_EVENTS = [
    ServerEvent("message_new", Message, "sockets that joined the conversation"),
    ServerEvent("message_updated", Message, "sockets that joined the conversation (after an edit or a deletion)"),
    ServerEvent("reactions_updated", ReactionsUpdated, "sockets that joined the conversation"),
    ServerEvent("conversation_updated", ConversationSummary, "every socket of every member (user rooms)"),
    ServerEvent("connection_updated", Connection, "every socket of both parties"),
    ServerEvent("messages_delivered", MessagesDelivered, "sockets that joined the conversation"),
    ServerEvent("messages_read", MessagesRead, "sockets that joined the conversation"),
    ServerEvent("typing", Typing, "sockets that joined the conversation, except every socket of the typist"),
    ServerEvent("presence", Presence, "every socket of each user connected to the subject"),
]


def typing(conversation_id: Any, user_id: Any, is_typing: bool) -> Typing:
    return {"conversation_id": str(conversation_id), "user_id": str(user_id), "is_typing": is_typing}


# -- socket events (client to server) ------------------------------------------------------------------
@dataclass(frozen=True)
class ClientEvent:
    name: str
    payload: type[BaseModel]
    ack: Any


CLIENT_EVENTS = [
    ClientEvent("start_conversation", schemas.StartConversation, ConversationAck),
    ClientEvent("join_conversation", schemas.ConversationRef, ConversationAck),
    ClientEvent("leave_conversation", schemas.ConversationRef, Done),
    ClientEvent("send_message", schemas.SendMessage, MessageAck),
    ClientEvent("edit_message", schemas.EditMessage, MessageAck),
    ClientEvent("get_message_edits", schemas.MessageRef, EditsAck),
    ClientEvent("delete_message", schemas.MessageRef, MessageAck),
    ClientEvent("react", schemas.React, ReactionsAck),
    ClientEvent("get_conversations", schemas.GetConversations, ConversationsAck),
    ClientEvent("get_messages", schemas.GetMessages, MessagesAck),
    ClientEvent("mark_as_delivered", schemas.MarkUpTo, Done),
    ClientEvent("mark_as_read", schemas.MarkUpTo, ReadAck),
    ClientEvent("typing_start", schemas.ConversationRef, Done),
    ClientEvent("typing_stop", schemas.ConversationRef, Done),
    # Contract v2 sections 7-8: groups' membership, title and roles; mutes.
    ClientEvent("add_members", schemas.AddMembers, ConversationAck),
    ClientEvent("remove_member", schemas.MemberRef, ConversationAck),
    ClientEvent("leave_group", schemas.ConversationRef, ConversationAck),
    ClientEvent("rename_conversation", schemas.RenameConversation, ConversationAck),
    ClientEvent("set_member_role", schemas.SetMemberRole, ConversationAck),
    ClientEvent("mute_conversation", schemas.MuteConversation, ConversationAck),
    ClientEvent("search_messages", schemas.SearchMessages, SearchAck),
]


# -- HTTP bodies -----------------------------------------------------------------------------------------
@with_config(STRICT)
class UserBody(TypedDict):
    user: User


@with_config(STRICT)
class SignedIn(TypedDict):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user: User


@with_config(STRICT)
class Empty(TypedDict):
    """`{}`: done, nothing to say."""


@with_config(STRICT)
class UsersBody(TypedDict):
    users: list[User]


@with_config(STRICT)
class ConnectionBody(TypedDict):
    connection: Connection


@with_config(STRICT)
class ConnectionsBody(TypedDict):
    connections: list[Connection]


@with_config(STRICT)
class ConversationsBody(TypedDict):
    conversations: list[ConversationSummary]
    next_cursor: str | None


@with_config(STRICT)
class MessagesBody(TypedDict):
    messages: list[Message]
    has_more: bool


@with_config(STRICT)
class BlockedBody(TypedDict):
    """The caller's blocked users, most recently blocked first (section 8)."""

    blocked: list[User]


@with_config(STRICT)
class UnreadBody(TypedDict):
    """`GET /api/unread`: unread messages over the conversations not muted, mentions over all."""

    unread_count: int
    mention_count: int


class UploadBody(TypedDict):
    """`POST /api/uploads` (multipart/form-data, one field `file`): the stored upload, not attached yet."""

    upload: Attachment


@with_config(STRICT)
class SearchBody(TypedDict):
    results: list[SearchResult]
    next_cursor: str | None


@with_config(ConfigDict(extra="allow"))
class Status(TypedDict):
    status: str


@with_config(ConfigDict(extra="allow"))
class History(TypedDict):
    """A conversation as it was (time travel): its summary, members and messages of then."""

    conversation: dict[str, Any]
    as_of: dict[str, Any]
    members: list[dict[str, Any]]
    messages: list[Message]


# -- "Your data": GET /api/users/me/export (application/my_data.py builds it from the events) --------
@with_config(STRICT)
class ExportProfile(TypedDict):
    """The caller's account as registered (null: erased); password changes by time only, never a hash."""

    id: Uuid
    username: str | None
    display_name: str | None
    created_at: Timestamp | None
    password_changed_at: list[Timestamp]


@with_config(STRICT)
class ExportConnectionChange(TypedDict):
    status: Literal["pending", "connected", "declined", "removed"]
    at: Timestamp
    by: Uuid  # who asked, answered or removed


@with_config(STRICT)
class ExportConnection(TypedDict):
    id: Uuid
    other_user_id: Uuid
    history: list[ExportConnectionChange]


@with_config(STRICT)
class ExportBlockChange(TypedDict):
    status: Literal["blocked", "unblocked"]
    at: Timestamp


@with_config(STRICT)
class ExportBlock(TypedDict):
    """A user the caller blocked (and perhaps unblocked since)."""

    blocked_user_id: Uuid
    history: list[ExportBlockChange]


@with_config(STRICT)
class ExportUpload(TypedDict):
    """An upload's metadata (never its bytes); where it is attached, if it is."""

    id: Uuid
    filename: str | None
    content_type: str
    size: int
    width: int | None
    height: int | None
    uploaded_at: Timestamp
    conversation_id: Uuid | None
    message_id: Uuid | None
    position: int | None
    attached_at: Timestamp | None


@with_config(STRICT)
class ExportPeriod(TypedDict):
    """One period of membership: from the seq that began it (1 for the first members) to the one that
    ended it (null: a member still)."""

    from_seq: int
    to_seq: int | None
    joined_at: Timestamp
    left_at: Timestamp | None
    added_by: Uuid | None
    ended: Literal["left", "removed"] | None
    ended_by: Uuid | None


@with_config(STRICT)
class ExportRole(TypedDict):
    role: Role
    at: Timestamp


@with_config(STRICT)
class ExportMute(TypedDict):
    until: str | None  # null: unmuted
    at: Timestamp


@with_config(STRICT)
class ExportAction(TypedDict):
    """A change the caller made to a group (a system message at `seq`)."""

    action: Literal["added_members", "removed_member", "renamed", "role_changed"]
    seq: int
    at: Timestamp
    user_ids: list[Uuid]
    title: str | None
    role: Role | None


@with_config(STRICT)
class ExportConversation(TypedDict):
    id: Uuid
    kind: Literal["direct", "group"]
    title: str | None
    created_at: Timestamp
    started_by: Uuid
    periods: list[ExportPeriod]
    roles: list[ExportRole]
    mutes: list[ExportMute]
    actions: list[ExportAction]
    last_delivered_seq: int
    last_read_seq: int


@with_config(STRICT)
class ExportVersion(TypedDict):
    """One version of a message's text, the original first (`at` = its `sent_at`); null: erased."""

    body: str | None
    at: Timestamp


@with_config(STRICT)
class ExportMessage(TypedDict):
    """A message the caller sent; `body` is its latest version."""

    id: Uuid
    conversation_id: Uuid
    seq: int
    sent_at: Timestamp
    body: str | None
    reply_to: Uuid | None
    versions: list[ExportVersion]
    edited_at: Timestamp | None
    deleted: bool
    deleted_at: Timestamp | None
    attachments: list[ExportUpload]


@with_config(STRICT)
class ExportReaction(TypedDict):
    conversation_id: Uuid
    message_id: Uuid
    emoji: str
    action: Literal["added", "removed"]
    at: Timestamp


@with_config(STRICT)
class MyDataExport(TypedDict):
    """`GET /api/users/me/export`: everything Parley holds about the caller, from the events, oldest first
    in each list; other people by id only."""

    format: Literal["parley-my-data"]
    version: Literal[1]
    exported_at: Timestamp
    user_id: Uuid
    profile: ExportProfile
    connections: list[ExportConnection]
    blocks: list[ExportBlock]
    uploads: list[ExportUpload]
    conversations: list[ExportConversation]
    messages: list[ExportMessage]
    reactions: list[ExportReaction]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str
    answers: dict[int, Any]  # status -> body
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    authenticated: bool = True


ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/auth/register",
        "Create an account",
        {201: UserBody, 409: ErrorBody, 422: ErrorBody},
        schemas.Register,
        authenticated=False,
    ),
    Endpoint(
        "POST",
        "/api/auth/login",
        "Sign in",
        {200: SignedIn, 401: ErrorBody, 429: ErrorBody},
        schemas.Login,
        authenticated=False,
    ),
    Endpoint(
        "POST",
        "/api/auth/refresh",
        "Rotate a refresh token: a new access token and refresh token of the same session",
        {200: SignedIn, 401: ErrorBody, 422: ErrorBody},
        schemas.Refresh,
        authenticated=False,
    ),
    Endpoint(
        "POST",
        "/api/auth/logout",
        "End this session, or every session of the caller (`everywhere`); their sockets are disconnected",
        {200: Empty, 401: ErrorBody, 422: ErrorBody},
        schemas.Logout,
    ),
    Endpoint(
        "POST",
        "/api/auth/password",
        "Change the password: fresh tokens for this session, every other session ends",
        {200: SignedIn, 401: ErrorBody, 422: ErrorBody},
        schemas.ChangePassword,
    ),
    Endpoint("GET", "/api/users/me", "The caller", {200: UserBody, 401: ErrorBody}),
    Endpoint(
        "DELETE",
        "/api/users/me",
        "Erase the caller's account (section 11): every token refused, sockets disconnected, their text unrecoverable",
        {200: Empty, 401: ErrorBody, 422: ErrorBody},
        schemas.DeleteAccount,
    ),
    Endpoint(
        "GET",
        "/api/users/me/export",
        "Everything Parley holds about the caller, from the events (a download: parley-export.json)",
        {200: MyDataExport, 401: ErrorBody},
    ),
    Endpoint(
        "GET",
        "/api/users",
        "Find users by username prefix",
        {200: UsersBody, 401: ErrorBody, 422: ErrorBody},
        query=schemas.UserSearch,
    ),
    Endpoint(
        "POST",
        "/api/users/{id}/block",
        "Block a user (their connection with the caller is removed)",
        {200: BlockedBody, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody},
    ),
    Endpoint(
        "DELETE",
        "/api/users/{id}/block",
        "Unblock a user (no connection comes back)",
        {200: BlockedBody, 401: ErrorBody, 404: ErrorBody},
    ),
    Endpoint("GET", "/api/blocks", "The caller's blocked users, most recent first", {200: BlockedBody, 401: ErrorBody}),
    Endpoint(
        "POST",
        "/api/connections",
        "Ask someone to connect",
        {201: ConnectionBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody, 429: ErrorBody},
        schemas.RequestConnection,
    ),
    Endpoint(
        "POST",
        "/api/connections/{id}/accept",
        "Accept a request",
        {200: ConnectionBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody},
    ),
    Endpoint(
        "POST",
        "/api/connections/{id}/decline",
        "Decline a request",
        {200: ConnectionBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody},
    ),
    Endpoint(
        "DELETE", "/api/connections/{id}", "Remove a connection", {200: ConnectionBody, 403: ErrorBody, 404: ErrorBody}
    ),
    Endpoint("GET", "/api/connections", "The caller's connections", {200: ConnectionsBody, 401: ErrorBody}),
    Endpoint(
        "GET",
        "/api/conversations",
        "The caller's conversations, newest activity first",
        {200: ConversationsBody, 401: ErrorBody, 422: ErrorBody},
        query=schemas.ConversationPage,
    ),
    Endpoint(
        "GET",
        "/api/unread",
        "Unread over conversations not muted, mentions over all",
        {200: UnreadBody, 401: ErrorBody},
    ),
    Endpoint(
        "GET",
        "/api/conversations/{id}/messages",
        "A page of a conversation's messages",
        {200: MessagesBody, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody},
        query=schemas.MessagePage,
    ),
    Endpoint(
        "GET",
        "/api/conversations/{id}/history",
        "A conversation as it was at a moment or log position",
        {200: History, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody},
    ),
    Endpoint(
        "POST",
        "/api/uploads",
        "Upload a file (multipart/form-data, one field `file`) to attach to a message within 24 hours",
        {201: UploadBody, 401: ErrorBody, 413: ErrorBody, 422: ErrorBody},
    ),
    Endpoint(
        "GET",
        "/api/search",
        "Search the messages the caller can see, newest first",
        {200: SearchBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody},
        query=schemas.MessageSearch,
    ),
    Endpoint("GET", "/healthz", "The process runs", {200: Status}, authenticated=False),
    Endpoint(
        "GET",
        "/readyz",
        "The store answers and the read models are caught up",
        {200: Status, 503: Status},
        authenticated=False,
    ),
]


# -- validators (the tests' contract checks) ---------------------------------------------------------
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter(shape: Any) -> TypeAdapter[Any]:
    """A cached validator of `shape` (strict: unknown fields refused, formats checked)."""
    if shape not in _ADAPTERS:
        _ADAPTERS[shape] = TypeAdapter(shape)
    return _ADAPTERS[shape]


ALL_SHAPES: tuple[Any, ...] = (
    *SHAPES,
    ErrorDetail,
    ErrorBody,
    Refused,
    Typing,
    Done,
    ConversationAck,
    MessageAck,
    ConversationsAck,
    MessagesAck,
    ReadAck,
    EditsAck,
    ReactionsAck,
    SearchAck,
    UserBody,
    SignedIn,
    Empty,
    UsersBody,
    ConnectionBody,
    ConnectionsBody,
    ConversationsBody,
    MessagesBody,
    BlockedBody,
    UnreadBody,
    UploadBody,
    SearchBody,
    Status,
    History,
    MyDataExport,
)
