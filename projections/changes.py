"""What a projected batch changed, for the read-side handlers that tell connected clients."""

from dataclasses import dataclass

from projections.shapes import Message, MessagesDelivered, MessagesRead


@dataclass(frozen=True)
class ConnectionChanged:
    connection_id: str


@dataclass(frozen=True)
class ConversationChanged:
    """A member's view of the conversation changed (new conversation, new message, markers)."""

    conversation_id: str


@dataclass(frozen=True)
class MessageAdded:
    message: Message  # as first sent


@dataclass(frozen=True)
class MarkerMoved:
    """A member's delivery (`messages_delivered`) or read (`messages_read`) marker moved forward."""

    event: str
    payload: MessagesDelivered | MessagesRead


Change = ConnectionChanged | ConversationChanged | MessageAdded | MarkerMoved
