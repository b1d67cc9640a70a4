"""Every request body and socket payload, as a strict pydantic model (unknown fields are refused)."""

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Seq = Annotated[StrictInt, Field(ge=0, le=2**53)]


# -- HTTP bodies and query strings ----------------------------------------------------------------
class Register(Payload):
    username: Annotated[StrictStr, Field(max_length=64)]
    password: Annotated[StrictStr, Field(min_length=8, max_length=256)]
    display_name: Annotated[StrictStr, Field(max_length=256)] | None = None


class Login(Payload):
    username: Annotated[StrictStr, Field(max_length=64)]
    password: Annotated[StrictStr, Field(max_length=256)]


class RequestConnection(Payload):
    username: Annotated[StrictStr, Field(max_length=64)]


class UserSearch(Payload):
    query: Annotated[str, Field(min_length=1, max_length=32)]


class ConversationPage(Payload):
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    before: Annotated[str, Field(max_length=200)] | None = None


class MessagePage(Payload):
    before_seq: Annotated[int, Field(ge=0)] | None = None
    after_seq: Annotated[int, Field(ge=0)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


# -- Socket.IO payloads ---------------------------------------------------------------------------
class StartConversation(Payload):
    user_ids: Annotated[list[UUID], Field(min_length=1, max_length=100)]
    title: Annotated[StrictStr, Field(max_length=1000)] | None = None


class ConversationRef(Payload):
    conversation_id: UUID


class SendMessage(Payload):
    conversation_id: UUID
    client_message_id: UUID
    body: Annotated[StrictStr, Field(max_length=100_000)]


class GetConversations(Payload):
    limit: Annotated[StrictInt, Field(ge=1, le=100)] = 50
    before: Annotated[StrictStr, Field(max_length=200)] | None = None


class GetMessages(Payload):
    conversation_id: UUID
    before_seq: Seq | None = None
    after_seq: Seq | None = None
    limit: Annotated[StrictInt, Field(ge=1, le=200)] = 50


class MarkUpTo(Payload):
    conversation_id: UUID
    up_to_seq: Seq
