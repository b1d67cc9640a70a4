"""What a projected batch changed, for the read-side handlers that tell connected clients."""

from dataclasses import dataclass

from projections.shapes import Message, MessagesDelivered, MessagesRead


@dataclass(frozen=True)
class ConnectionChanged:
    connection_id: str


@dataclass(frozen=True)
class ConversationChanged:
    """A member's view of the conversation changed (new conversation, new message, markers, an edit or
    deletion): of every member, or only of `user_ids`."""

    conversation_id: str
    user_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class MessageAdded:
    message: Message  # as first sent (its `reply_to` Quote is read when it is published)
    reply_to: str | None = None  # the quoted message's id
    attachments: bool = False  # it has some: read them (as projected) when it is published


@dataclass(frozen=True)
class MessageUpdated:
    """A message was edited or deleted: `message_updated` with the message as it is now."""

    conversation_id: str
    message_id: str


@dataclass(frozen=True)
class ReactionsChanged:
    """A message's reactions changed: `reactions_updated`."""

    conversation_id: str
    message_id: str


@dataclass(frozen=True)
class MarkerMoved:
    """A member's delivery (`messages_delivered`) or read (`messages_read`) marker moved forward."""

    event: str
    payload: MessagesDelivered | MessagesRead


@dataclass(frozen=True)
class Departed:
    """`user_id` was removed from or left the conversation: a last `conversation_updated` (left: true),
    and their sockets leave its room."""

    conversation_id: str
    user_id: str


Change = (
    Departed | ConnectionChanged | ConversationChanged | MessageAdded | MarkerMoved | MessageUpdated | ReactionsChanged
)
