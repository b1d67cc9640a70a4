"""What a projected batch changed, for the read-side handlers that tell connected clients."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ConnectionChanged:
    connection_id: str


@dataclass(frozen=True)
class ConversationChanged:
    """A member's view of the conversation changed (new conversation, new message, markers)."""

    conversation_id: str


@dataclass(frozen=True)
class MessageAdded:
    message: dict[str, Any]  # the contract's Message shape, as first sent


@dataclass(frozen=True)
class MarkerMoved:
    """A member's delivery (`messages_delivered`) or read (`messages_read`) marker moved forward."""

    event: str
    payload: dict[str, Any]


Change = ConnectionChanged | ConversationChanged | MessageAdded | MarkerMoved
