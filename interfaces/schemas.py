"""Every request body and socket payload, as a strict pydantic model (unknown fields are refused)."""

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Seq = Annotated[StrictInt, Field(ge=0, le=2**53)]


def text(max_length: int, min_length: int = 0) -> Any:
    """A JSON string within the given length (pydantic refuses lone surrogates: not valid Unicode)."""
    return Annotated[StrictStr, Field(min_length=min_length, max_length=max_length)]


# -- HTTP bodies and query strings ----------------------------------------------------------------
class Register(Payload):
    username: text(64)
    password: text(256, 8)
    display_name: text(256) | None = None


class Login(Payload):
    username: text(64)
    password: text(256)


class RequestConnection(Payload):
    username: text(64)


class UserSearch(Payload):
    query: text(32, 1)


class ConversationPage(Payload):
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    before: text(200) | None = None


class OneDirection(Payload):
    """A page of history goes one way: before a seq, or after one."""

    @model_validator(mode="after")
    def one_direction(self) -> "OneDirection":
        if getattr(self, "before_seq", None) is not None and getattr(self, "after_seq", None) is not None:
            raise ValueError("give before_seq or after_seq, not both")
        return self


class MessagePage(OneDirection):
    before_seq: Annotated[int, Field(ge=0)] | None = None
    after_seq: Annotated[int, Field(ge=0)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


# -- Socket.IO payloads ---------------------------------------------------------------------------
class StartConversation(Payload):
    user_ids: Annotated[list[UUID], Field(min_length=1, max_length=100)]
    title: text(1000) | None = None


class ConversationRef(Payload):
    conversation_id: UUID


class SendMessage(Payload):
    conversation_id: UUID
    client_message_id: UUID
    body: text(100_000)


class GetConversations(Payload):
    limit: Annotated[StrictInt, Field(ge=1, le=100)] = 50
    before: text(200) | None = None


class GetMessages(OneDirection):
    conversation_id: UUID
    before_seq: Seq | None = None
    after_seq: Seq | None = None
    limit: Annotated[StrictInt, Field(ge=1, le=200)] = 50


class MarkUpTo(Payload):
    conversation_id: UUID
    up_to_seq: Seq
