"""Every request body and socket payload, as a strict pydantic model (unknown fields are refused)."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Seq = Annotated[StrictInt, Field(ge=0, le=2**53)]


# JSON strings within lengths (pydantic refuses lone surrogates: not valid Unicode).
Name = Annotated[StrictStr, Field(max_length=64)]  # a username as typed; the domain normalises it
Password = Annotated[StrictStr, Field(min_length=8, max_length=256)]
GivenPassword = Annotated[StrictStr, Field(max_length=256)]  # at sign-in: any length up to the bound
DisplayName = Annotated[StrictStr, Field(max_length=256)]
Prefix = Annotated[StrictStr, Field(min_length=1, max_length=32)]
Cursor = Annotated[StrictStr, Field(max_length=200)]
Title = Annotated[StrictStr, Field(max_length=1000)]
Body = Annotated[StrictStr, Field(max_length=100_000)]  # the domain's own limit is checked after normalising
Emoji = Annotated[StrictStr, Field(min_length=1, max_length=64)]
SearchText = Annotated[StrictStr, Field(max_length=200)]  # code points; "no word in it" is the search's to judge


# -- HTTP bodies and query strings ----------------------------------------------------------------
class Register(Payload):
    username: Name
    password: Password
    display_name: DisplayName | None = None


class Login(Payload):
    username: Name
    password: GivenPassword


class Refresh(Payload):
    refresh_token: Annotated[StrictStr, Field(min_length=1, max_length=512)]


class Logout(Payload):
    everywhere: StrictBool = False


class ChangePassword(Payload):
    current_password: GivenPassword
    new_password: Password


class DeleteAccount(Payload):
    password: GivenPassword


class RequestConnection(Payload):
    username: Name


class MessageSearch(Payload):
    """`GET /api/search` (contract section 10); the words are judged by the search itself (at least one
    word, at most 200 code points), so this bound only keeps absurd inputs out."""

    q: SearchText
    conversation_id: UUID | None = None
    limit: Annotated[int, Field(ge=1, le=50)] = 20
    before: Cursor | None = None


class UserSearch(Payload):
    query: Prefix


class ConversationPage(Payload):
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    before: Cursor | None = None


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
    title: Title | None = None


class ConversationRef(Payload):
    conversation_id: UUID


class SendMessage(Payload):
    conversation_id: UUID
    client_message_id: UUID
    body: Body
    reply_to: UUID | None = None  # a message of the same conversation (contract section 6)
    # The caller's own unattached uploads (contract section 9): at most 10, distinct, kept in this order.
    attachment_ids: Annotated[list[UUID], Field(max_length=10)] = []

    @model_validator(mode="after")
    def distinct_attachments(self) -> "SendMessage":
        if len(set(self.attachment_ids)) != len(self.attachment_ids):
            raise ValueError("attachment_ids must be distinct")
        return self


class MessageRef(Payload):
    conversation_id: UUID
    message_id: UUID


class EditMessage(Payload):
    conversation_id: UUID
    message_id: UUID
    body: Body


class React(Payload):
    conversation_id: UUID
    message_id: UUID
    emoji: Emoji  # the domain judges it: one fully-qualified emoji
    add: StrictBool


class GetConversations(Payload):
    limit: Annotated[StrictInt, Field(ge=1, le=100)] = 50
    before: Cursor | None = None


class GetMessages(OneDirection):
    conversation_id: UUID
    before_seq: Seq | None = None
    after_seq: Seq | None = None
    limit: Annotated[StrictInt, Field(ge=1, le=200)] = 50


class SearchMessages(Payload):
    """`search_messages` (contract section 10): the socket twin of `GET /api/search`."""

    query: SearchText
    conversation_id: UUID | None = None
    limit: Annotated[StrictInt, Field(ge=1, le=50)] = 20
    before: Cursor | None = None


class MarkUpTo(Payload):
    conversation_id: UUID
    up_to_seq: Seq


# -- groups: membership, title, roles, mutes (contract v2 sections 7-8) ----------------------------
class AddMembers(Payload):
    conversation_id: UUID
    user_ids: Annotated[list[UUID], Field(min_length=1, max_length=256)]


class MemberRef(Payload):
    """`remove_member`: one member of a group."""

    conversation_id: UUID
    user_id: UUID


class RenameConversation(Payload):
    conversation_id: UUID
    title: Title  # the domain normalises it and checks 1-100 code points


class SetMemberRole(Payload):
    conversation_id: UUID
    user_id: UUID
    role: Literal["admin", "member"]


class MuteConversation(Payload):
    """`until`: a future moment mutes until then; null or a past one unmutes. Required, may be null."""

    conversation_id: UUID
    until: AwareDatetime | None
