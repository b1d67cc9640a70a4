"""The Parley application: every command loads aggregates, calls one rule, and saves.

Concurrency: the store rejects a stale write (optimistic concurrency, `IntegrityError`); each command
is then re-run on freshly loaded aggregates, where it either succeeds or meets the rule that the
winner established (a taken username, an existing direct conversation, an already-sent message).

Several processes (`shared_store`): aggregates come from an in-process cache, which another process's
writes make stale without any conflict when a command only *reads* an aggregate it checks (whether
two users are still connected) or refuses on a stale copy. So those checks read the aggregate from
the store, and a refusal made on cached aggregates is confirmed on fresh ones before it stands.
"""

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, project_aggregate
from eventsourcing.domain import Aggregate, BaseAggregate
from eventsourcing.persistence import IntegrityError, Recording

from application.ports import AccountHoldings, MessageTexts, PasswordHasher
from application.results import MessageChanged, MessageRecorded, Recorded, UploadRecorded
from application.unit_of_work import POSITION_OF_SAVE, Command, GroupCommit, UnitOfWork, with_position
from domain.blocks import Block
from domain.connections import ACTIVE, Connection
from domain.conversations import DIRECT, Conversation
from domain.errors import (
    ConnectionNotFound,
    ConversationNotFound,
    DomainError,
    InvalidCredentials,
    InvalidInput,
    InvalidState,
    NotConnected,
    UsernameTaken,
    UserNotFound,
)
from domain.mentions import mentions_in
from domain.messages import ClientMessageKey, message_id_for, normalize_body
from domain.reactions import check_emoji
from domain.uploads import Upload, UploadNotFound, normalize_filename
from domain.users import User, Username, normalize_display_name, normalize_username

log = logging.getLogger("parley.commands")
A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
ATTEMPTS = 16
LOCK_STRIPES = 256


class Parley(Application[UUID]):
    name = "Parley"
    env: ClassVar[dict[str, str]] = {
        # Commands load from memory; a stale copy (another process wrote) fails its save and is reloaded.
        "AGGREGATE_CACHE_MAXSIZE": "50000",
        "AGGREGATE_CACHE_FASTFORWARD": "n",
    }
    snapshotting_intervals: ClassVar[dict[Any, int]] = {Conversation: 500}  # bounds the replay of a busy conversation
    passwords: PasswordHasher
    texts: MessageTexts | None = None  # the read models' current text (no-op edits write nothing)
    holdings: AccountHoldings | None = None  # what an account holds (read models): for erase_user
    max_message_chars = 4000
    shared_store = False  # other processes write to this store too (see the module docstring)

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        self.save_listeners: list[Callable[[], None]] = []
        self.group_commit: GroupCommit | None = None
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    # -- accounts ---------------------------------------------------------------------------------
    def register_user(self, username: str, password: str, display_name: str | None = None) -> Recorded:
        username = normalize_username(username)
        display_name = normalize_display_name(display_name, username)
        index = self._find(Username, Username.create_id(username), fresh=True)
        if index is not None and index.user_id is not None:
            raise UsernameTaken(f"The username {username!r} is taken.")
        user = User(username=username, display_name=display_name, password_hash=self.passwords.hash(password))
        if index is None:
            index = Username(username=username, user_id=user.id)
        else:  # released by an erased account: free to claim again
            index.claim_again(username, user.id)
        try:
            recordings = self.save(user, index)
        except IntegrityError:
            raise UsernameTaken(f"The username {username!r} is taken.") from None
        return Recorded(user.id, _position(recordings))

    def change_password(self, user_id: UUID, current_password: str, new_password: str) -> Recorded:
        """Set a new password for a user who gives the current one (checked against the store, not a cache)."""

        def attempt(_fresh: bool) -> Recorded:
            user = self._find(User, user_id, fresh=True)
            if user is None:
                raise UserNotFound("No such user.")
            if not self.passwords.verify(user.password_hash, current_password):
                raise InvalidCredentials("The current password is wrong.")
            user.change_password(self.passwords.hash(new_password))
            return Recorded(user.id, _position(self.save(user)))

        return self._retrying(attempt)

    # -- connections ------------------------------------------------------------------------------
    def request_connection(self, requester_id: UUID, addressee_username: str) -> Recorded:
        addressee_id = self._user_id_by_name(addressee_username)
        if addressee_id == requester_id:
            raise InvalidInput("You cannot connect with yourself.")
        if self._blocks(addressee_id, requester_id):  # exactly as for a missing user
            raise UserNotFound(f"No user named {normalize_username(addressee_username)!r}.")
        if self._blocks(requester_id, addressee_id):
            raise InvalidState("You blocked this user; unblock them first.")

        def attempt(fresh: bool) -> Recorded:
            connection = self._find(Connection, Connection.create_id(requester_id, addressee_id), fresh)
            if connection is None:
                connection = Connection.request(requester_id, addressee_id)
            else:
                connection.request_again(requester_id)
            return Recorded(connection.id, _position(self.save(connection)))

        return self._retrying(attempt)

    def accept_connection(self, connection_id: UUID, user_id: UUID) -> Recorded:
        return self._change_connection(connection_id, lambda c: c.accept(user_id))

    def decline_connection(self, connection_id: UUID, user_id: UUID) -> Recorded:
        return self._change_connection(connection_id, lambda c: c.decline(user_id))

    def remove_connection(self, connection_id: UUID, user_id: UUID) -> Recorded:
        return self._change_connection(connection_id, lambda c: c.remove(user_id))

    def _change_connection(self, connection_id: UUID, change: Callable[[Connection], None]) -> Recorded:
        def attempt(fresh: bool) -> Recorded:
            connection = self._find(Connection, connection_id, fresh)
            if connection is None:
                raise ConnectionNotFound("No such connection.")
            change(connection)
            return Recorded(connection.id, _position(self.save(connection)))

        return self._retrying(attempt)

    # -- erasure (contract section 11) ------------------------------------------------------------
    def erase_user(self, user_id: UUID) -> Recorded:
        """Erase an account, each change its usual event: its messages deleted, its reactions removed,
        every group left (ownership passing on), its connections removed, its blocks lifted; then the
        account (UserErased) and its username released. The read models drop the text as they apply
        these events and the projector destroys the keys it was sealed under (domain/personal_data.py),
        so the text is gone once the read models reach the returned position. The caller ends the
        account's sessions first, so that it writes nothing meanwhile. Erasing twice changes nothing."""
        user = self._find(User, user_id, fresh=True)
        if user is None:
            raise UserNotFound("No such user.")
        assert self.holdings is not None, "erase_user needs the read models' AccountHoldings"
        held = self.holdings.holdings(user_id, self.recorder.max_notification_id())
        positions: list[int | None] = []
        for conversation_id in held.conversations:
            ids = held.messages.get(conversation_id, [])

            def leave(unit: UnitOfWork, conversation: Conversation, ids: list[UUID] = ids) -> bool:
                return conversation.erase_member(user_id, ids)

            positions.append(self._group_command(conversation_id, leave).position)
        for connection_id in held.connections:
            positions.append(self.remove_connection(connection_id, user_id).position)
        for blocked_id in held.blocked:
            positions.append(self.unblock_user(user_id, blocked_id).position)

        def attempt(fresh: bool) -> Recorded:
            account = self._find(User, user_id, fresh)
            assert account is not None
            if not account.erase():
                return Recorded(user_id, None)
            aggregates: list[Aggregate] = [account]
            if user.username is not None:
                index = self._find(Username, Username.create_id(user.username), fresh)
                if index is not None and index.user_id == user_id:
                    index.release()
                    aggregates.append(index)
            return Recorded(user_id, _position(self.save(*aggregates)))

        positions.append(self._retrying(attempt).position)
        return Recorded(user_id, max((p for p in positions if p), default=None))

    # -- blocks (contract section 8) ---------------------------------------------------------------
    def block_user(self, blocker_id: UUID, blocked_id: UUID) -> Recorded:
        """Block `blocked_id`; their pending or connected connection is removed in the same save."""
        if blocked_id == blocker_id:
            raise InvalidInput("You cannot block yourself.")
        if self._find(User, blocked_id) is None:
            raise UserNotFound(f"No user with id {blocked_id}.")

        def attempt(fresh: bool) -> Recorded:
            block = self._find(Block, Block.create_id(blocker_id, blocked_id), fresh)
            if block is None:
                block = Block.start(blocker_id, blocked_id)
            elif not block.block_again():
                return Recorded(block.id, None)
            aggregates: list[Aggregate] = [block]
            connection = self._find(Connection, Connection.create_id(blocker_id, blocked_id), fresh)
            if connection is not None and connection.status in ACTIVE:
                connection.remove(blocker_id)
                aggregates.append(connection)
            return Recorded(block.id, _position(self.save(*aggregates)))

        return self._retrying(attempt)

    def unblock_user(self, blocker_id: UUID, blocked_id: UUID) -> Recorded:
        if self._find(User, blocked_id) is None:
            raise UserNotFound(f"No user with id {blocked_id}.")

        def attempt(fresh: bool) -> Recorded:
            block = self._find(Block, Block.create_id(blocker_id, blocked_id), fresh)
            if block is None or not block.unblock():
                return Recorded(Block.create_id(blocker_id, blocked_id), None)
            return Recorded(block.id, _position(self.save(block)))

        return self._retrying(attempt)

    def _blocks(self, blocker_id: UUID, blocked_id: UUID) -> bool:
        block = self._find(Block, Block.create_id(blocker_id, blocked_id), fresh=self.shared_store)
        return block is not None and block.active

    # -- conversations ----------------------------------------------------------------------------
    def start_conversation(self, user_id: UUID, other_ids: list[UUID], title: str | None) -> Recorded:
        others = list(dict.fromkeys(u for u in other_ids if u != user_id))
        for other in others:
            if self._find(User, other) is None:
                raise UserNotFound(f"No user with id {other}.")
        for other in others:
            if not self._are_connected(user_id, other):
                raise NotConnected("You can only start a conversation with people you are connected to.")

        def attempt(fresh: bool) -> Recorded:
            conversation = Conversation.start(user_id, others, title)
            if conversation.kind == DIRECT:
                existing = self._find(Conversation, conversation.id, fresh)
                if existing is not None:
                    return Recorded(existing.id, self.recorder.max_notification_id())
            return Recorded(conversation.id, _position(self.save(conversation)))

        return self._retrying(attempt)

    def send_message(
        self,
        conversation_id: UUID,
        sender_id: UUID,
        client_message_id: UUID,
        body: str,
        reply_to: UUID | None = None,
        attachment_ids: tuple[UUID, ...] = (),
    ) -> MessageRecorded:
        """Append a message with the next seq; a retried client_message_id returns the original."""
        if self.shared_store:
            self._check_still_connected(conversation_id, sender_id)
        return self._conversation_command(
            conversation_id,
            self._send_command(conversation_id, sender_id, client_message_id, body, reply_to, attachment_ids),
        )

    @property
    def submits_without_blocking(self) -> bool:
        """Whether submit_message can queue a send without blocking (group commit on, and no other
        process writing to the store: a send then checks the store before it is queued)."""
        return self.group_commit is not None and not self.shared_store

    def submit_message(
        self,
        conversation_id: UUID,
        sender_id: UUID,
        client_message_id: UUID,
        body: str,
        reply_to: UUID | None = None,
        attachment_ids: tuple[UUID, ...] = (),
    ) -> "Future[MessageRecorded]":
        """`send_message` queued for the next group commit without blocking the caller (an event loop):
        the future settles when the message is durable, or with the error that refused it."""
        if not self.submits_without_blocking:
            raise RuntimeError("submit_message needs group commit and a store this process writes alone")
        assert self.group_commit is not None
        return self.group_commit.submit(
            self._send_command(conversation_id, sender_id, client_message_id, body, reply_to, attachment_ids),
            sheddable=True,  # refused (`rate_limited`) while the writer is behind: see GroupCommit.submit
        )

    def _send_command(
        self,
        conversation_id: UUID,
        sender_id: UUID,
        client_message_id: UUID,
        body: str,
        reply_to: UUID | None,
        attachment_ids: tuple[UUID, ...] = (),
    ) -> Command[MessageRecorded]:
        body = normalize_body(body, self.max_message_chars, allow_empty=bool(attachment_ids))
        message_id = message_id_for(sender_id, client_message_id)

        def original(key: ClientMessageKey) -> MessageRecorded:
            return MessageRecorded(
                message_id,
                key.conversation_id,
                key.seq,
                sender_id,
                body,
                client_message_id,
                None,
                self.recorder.max_notification_id(),
            )

        def command(unit: UnitOfWork) -> MessageRecorded:
            conversation = unit.find(Conversation, conversation_id)
            if conversation is None:
                raise ConversationNotFound("No such conversation.")
            if unit.recheck and (key := unit.find(ClientMessageKey, message_id)) is not None:
                return original(key)
            conversation.check_member(sender_id)
            if conversation.kind == DIRECT and not self._are_connected(*conversation.pair, unit=unit):
                raise NotConnected("You are no longer connected; the history stays readable.")
            try:
                if reply_to is not None:
                    conversation.check_reply(reply_to, unit.find(ClientMessageKey, reply_to), sender_id)
                uploads = self._attachable(unit, sender_id, attachment_ids)
            except DomainError:  # a retry is recognised before its reply_to and attachments are checked
                if (key := unit.find(ClientMessageKey, message_id)) is not None:
                    return original(key)
                raise
            mentions = self._mentions(unit, conversation, sender_id, body)
            for position, upload in enumerate(uploads):  # before the message in the log (projections/updates.py)
                upload.attach(conversation.id, message_id, position)
            unit.stage(*uploads)
            seq = conversation.send(sender_id, message_id, body, client_message_id, reply_to, mentions)
            sent_at = conversation.pending_events[-1].timestamp
            unit.stage(conversation, ClientMessageKey(sender_id, client_message_id, conversation.id, seq))
            return MessageRecorded(
                message_id,
                conversation.id,
                seq,
                sender_id,
                body,
                client_message_id,
                sent_at,
                POSITION_OF_SAVE,
                reply_to,
                tuple(mentions),
                tuple(attachment_ids),
            )

        return command

    def _attachable(self, unit: UnitOfWork, sender_id: UUID, attachment_ids: tuple[UUID, ...]) -> list[Upload]:
        """The sender's own uploads, each unattached and younger than a day (else UploadNotFound)."""
        now = datetime.now(UTC)
        uploads = []
        for upload_id in attachment_ids:
            upload = unit.refresh(Upload, upload_id) if self.shared_store else unit.find(Upload, upload_id)
            if upload is None:
                raise UploadNotFound(f"No upload {upload_id} of yours is waiting to be attached.")
            upload.check_attachable(sender_id, now)
            uploads.append(upload)
        return uploads

    # -- uploads ------------------------------------------------------------------------------------
    def store_upload(
        self,
        uploader_id: UUID,
        filename: str,
        content_type: str,
        size: int,
        sha256: str,
        width: int | None,
        height: int | None,
        thumbnail_sha256: str | None,
    ) -> UploadRecorded:
        """Record an upload whose bytes are already in the blob store (metadata only in the event)."""
        upload = Upload(
            uploader_id=uploader_id,
            filename=normalize_filename(filename),
            content_type=content_type,
            size=size,
            sha256=sha256,
            width=width,
            height=height,
            thumbnail_sha256=thumbnail_sha256,
        )
        recordings = self.save(upload)
        created = upload.created_on
        return UploadRecorded(
            upload.id,
            uploader_id,
            normalize_filename(filename),
            content_type,
            size,
            sha256,
            width,
            height,
            thumbnail_sha256,
            created,
            _position(recordings),
        )

    def _mentions(self, unit: UnitOfWork, conversation: Conversation, sender_id: UUID, body: str) -> list[UUID]:
        """Whom `body` mentions: the members' usernames are read only when it holds an `@`."""
        if "@" not in body:
            return []
        names: dict[str, UUID] = {}
        for member_id in conversation.member_ids:
            user = unit.find(User, member_id)
            if user is not None and user.username is not None:  # (None: erased)
                names[user.username] = member_id
        return mentions_in(body, sender_id, names, conversation.kind != DIRECT)

    # -- what happens to a message after it is sent --------------------------------------------------
    def edit_message(self, conversation_id: UUID, editor_id: UUID, message_id: UUID, body: str) -> MessageChanged:
        body = normalize_body(body, self.max_message_chars)
        current = self.texts.current_body(message_id) if self.texts is not None else None

        def change(unit: UnitOfWork, conversation: Conversation, message: ClientMessageKey) -> bool:
            self._check_connected(unit, conversation)
            mentions = self._mentions(unit, conversation, editor_id, body)
            return conversation.edit(editor_id, message, body, mentions, current if current is not None else "")

        return self._message_command(conversation_id, editor_id, message_id, change)

    def delete_message(self, conversation_id: UUID, user_id: UUID, message_id: UUID) -> MessageChanged:
        return self._message_command(
            conversation_id,
            user_id,
            message_id,
            lambda unit, conversation, message: conversation.delete(user_id, message),
        )

    def react(self, conversation_id: UUID, user_id: UUID, message_id: UUID, emoji: str, add: bool) -> MessageChanged:
        emoji = check_emoji(emoji)

        def change(unit: UnitOfWork, conversation: Conversation, message: ClientMessageKey) -> bool:
            self._check_connected(unit, conversation)
            return conversation.react(user_id, message, emoji, add)

        return self._message_command(conversation_id, user_id, message_id, change)

    def _message_command(
        self,
        conversation_id: UUID,
        user_id: UUID,
        message_id: UUID,
        change: Callable[[UnitOfWork, Conversation, ClientMessageKey], bool],
    ) -> MessageChanged:
        """Find the conversation and the message (its key: sender, seq), check membership, apply `change`."""
        if self.shared_store:
            self._find(Conversation, conversation_id, fresh=True)  # the cached copy may be behind

        def command(unit: UnitOfWork) -> MessageChanged:
            conversation = unit.find(Conversation, conversation_id)
            if conversation is None:
                raise ConversationNotFound("No such conversation.")
            conversation.check_member(user_id)
            message = conversation.message_of(message_id, unit.find(ClientMessageKey, message_id))
            conversation.check_visible(user_id, message)
            if not change(unit, conversation, message):
                reactions = tuple((e, tuple(u)) for e, u in conversation.reactions_of(message_id))
                return MessageChanged(conversation_id, message_id, False, None, reactions)
            unit.stage(conversation)
            reactions = tuple((e, tuple(u)) for e, u in conversation.reactions_of(message_id))
            return MessageChanged(conversation_id, message_id, True, POSITION_OF_SAVE, reactions)

        return self._conversation_command(conversation_id, command)

    def _check_connected(self, unit: UnitOfWork, conversation: Conversation) -> None:
        """Editing and reacting in a direct conversation need its two users connected (deleting does not)."""
        if conversation.kind == DIRECT and not self._are_connected(*conversation.pair, unit=unit):
            raise NotConnected("You are no longer connected; the history stays readable.")

    # -- groups: membership, title, roles, mutes (contract sections 7-8) -------------------------------
    def add_members(self, conversation_id: UUID, actor_id: UUID, user_ids: list[UUID]) -> Recorded:
        """Each user must exist and be connected with the actor; members already are skipped."""
        others = list(dict.fromkeys(u for u in user_ids if u != actor_id))
        for other in others:
            if self._find(User, other) is None:
                raise UserNotFound(f"No user with id {other}.")

        def change(unit: UnitOfWork, conversation: Conversation) -> bool:
            conversation.check_member(actor_id)
            new = [u for u in others if u not in conversation.member_ids]
            for other in new:
                if not self._are_connected(actor_id, other, unit=unit):
                    raise NotConnected("You can only add people you are connected to.")
            return conversation.add_members(actor_id, others)

        return self._group_command(conversation_id, change)

    def remove_member(self, conversation_id: UUID, actor_id: UUID, user_id: UUID) -> Recorded:
        return self._group_command(conversation_id, lambda unit, c: c.remove_member(actor_id, user_id))

    def leave_group(self, conversation_id: UUID, user_id: UUID) -> Recorded:
        return self._group_command(conversation_id, lambda unit, c: c.leave(user_id))

    def rename_conversation(self, conversation_id: UUID, actor_id: UUID, title: str) -> Recorded:
        return self._group_command(conversation_id, lambda unit, c: c.rename(actor_id, title))

    def set_member_role(self, conversation_id: UUID, actor_id: UUID, user_id: UUID, role: str) -> Recorded:
        return self._group_command(conversation_id, lambda unit, c: c.set_role(actor_id, user_id, role))

    def mute_conversation(self, conversation_id: UUID, user_id: UUID, until: str | None) -> Recorded:
        return self._group_command(conversation_id, lambda unit, c: c.mute(user_id, until))

    def _group_command(
        self, conversation_id: UUID, change: Callable[[UnitOfWork, Conversation], bool | None]
    ) -> Recorded:
        if self.shared_store:
            self._find(Conversation, conversation_id, fresh=True)  # the cached copy may be behind

        def command(unit: UnitOfWork) -> Recorded:
            conversation = unit.find(Conversation, conversation_id)
            if conversation is None:
                raise ConversationNotFound("No such conversation.")
            if not change(unit, conversation):
                return Recorded(conversation_id, None)
            unit.stage(conversation)
            return Recorded(conversation_id, POSITION_OF_SAVE)

        return self._conversation_command(conversation_id, command)

    def mark_delivered(self, conversation_id: UUID, user_id: UUID, up_to_seq: int) -> Recorded:
        return self._mark(conversation_id, up_to_seq, lambda c: c.mark_delivered(user_id, up_to_seq))

    def mark_read(self, conversation_id: UUID, user_id: UUID, up_to_seq: int) -> Recorded:
        return self._mark(conversation_id, up_to_seq, lambda c: c.mark_read(user_id, up_to_seq))

    def _mark(self, conversation_id: UUID, up_to_seq: int, mark: Callable[[Conversation], bool]) -> Recorded:
        def command(unit: UnitOfWork) -> Recorded:
            conversation = unit.find(Conversation, conversation_id)
            if conversation is not None and not unit.fresh and up_to_seq > conversation.last_seq:
                conversation = unit.refresh(Conversation, conversation_id)  # another process may have sent
            if conversation is None:
                raise ConversationNotFound("No such conversation.")
            if not mark(conversation):
                return Recorded(conversation_id, None)
            unit.stage(conversation)
            return Recorded(conversation_id, POSITION_OF_SAVE)

        return self._conversation_command(conversation_id, command)

    def _conversation_command(self, conversation_id: UUID, command: Command[T]) -> T:
        """Commands that change a conversation go through group commit when it is on."""
        if self.group_commit is not None:
            return self.group_commit.run(command)
        with self._stripes[hash(conversation_id) % LOCK_STRIPES]:  # one writer per conversation per process
            return self._alone(command)

    def _alone(self, command: Command[T]) -> T:
        """Run one command in a unit of work of its own, saving what it staged; retry conflicts."""

        def attempt(fresh: bool) -> T:
            unit = UnitOfWork(self, fresh)
            result = command(unit)
            position = _position(self.save(*unit.staged)) if unit.staged else None
            positioned: T = with_position(result, position)
            return positioned

        return self._retrying(attempt)

    def enable_group_commit(self, deadline_seconds: float = 8.0) -> None:
        """`deadline_seconds`: how long a queued command may wait for its group before it is refused
        (CommandTimedOut) rather than run for a caller that no longer waits."""
        self.group_commit = GroupCommit(
            lambda aggregates: _position(self.save(*aggregates)), self._alone, self, deadline_seconds=deadline_seconds
        )

    def close(self) -> None:
        if self.group_commit is not None:
            self.group_commit.close()
        super().close()

    # -- helpers ----------------------------------------------------------------------------------
    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[Any]]:
        """As the library's, but an aggregate's events are collected without the library's runtime
        Protocol checks (`isinstance` against a typing.Protocol walks its members: about 3% of the
        server's CPU per send under load, by py-spy); anything else goes the library's way."""
        processing_event: ProcessingEvent[Any] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, BaseAggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            elif obj is not None:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # (the library's deprecated hook: our save listeners)
        return recordings

    def _record(self, processing_event: Any) -> list[Recording[Any]]:
        """As the library's, but the message keys just saved stay out of the aggregate cache: one is
        written per message and read again only by a retry (from the store), so caching them grew a
        server by one key per message sent until the cache was full (+25% RSS in a 10-minute soak)."""
        recordings: list[Recording[Any]] = super()._record(processing_event)
        cache = self.repository.cache
        if cache is not None:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                if isinstance(aggregate, ClientMessageKey):
                    with contextlib.suppress(KeyError):
                        cache.get(aggregate_id, evict=True)
        return recordings

    def _take_snapshots(self, processing_event: Any) -> None:
        """A snapshot only shortens later loads, and it is taken after the events are stored: one that
        cannot be stored (a full disk) must not fail a save that stands. The next interval takes one."""
        try:
            super()._take_snapshots(processing_event)
        except Exception as error:
            log.warning("snapshot not stored (%s: %s); the events are", type(error).__name__, error)

    def notify(self, new_events: list[Any]) -> None:
        super().notify(new_events)
        for listener in self.save_listeners:
            listener()

    def user_id_by_name(self, username: str) -> UUID:
        """The id of the account with this username (UserNotFound when there is none)."""
        return self._user_id_by_name(username)

    def _user_id_by_name(self, username: str) -> UUID:
        try:
            username = normalize_username(username)
        except InvalidInput:
            raise UserNotFound(f"No user named {username!r}.") from None
        index = self._find(Username, Username.create_id(username))
        if index is None or index.user_id is None:  # (None: released by an erased account)
            raise UserNotFound(f"No user named {username!r}.")
        return index.user_id

    def _are_connected(self, a: UUID, b: UUID, *, unit: UnitOfWork | None = None) -> bool:
        connection_id = Connection.create_id(a, b)
        if unit is not None:
            connection = unit.find(Connection, connection_id)
        else:
            connection = self._find(Connection, connection_id, fresh=self.shared_store)
        return connection is not None and connection.is_connected

    def _check_still_connected(self, conversation_id: UUID, sender_id: UUID) -> None:
        """Before a send to a direct conversation: are its two users connected, as the store says?

        Read here, in the caller's thread, not in the group-commit writer (which would pay one read
        per send, one after another); the fresh copy also replaces the cached one that the command
        checks again. Other refusals (no such conversation, not a member) are left to the command.
        The conversation is read in the cache, not copied (its kind and members only: a copy of a busy
        conversation costs more than the rest of the check)."""
        conversation = self._find(Conversation, conversation_id, copy=False)
        if conversation is None or conversation.kind != DIRECT or sender_id not in conversation.member_ids:
            return
        connection = self._find(Connection, Connection.create_id(*conversation.pair), fresh=True)
        if connection is None or not connection.is_connected:
            raise NotConnected("You are no longer connected; the history stays readable.")

    def _find(self, cls: type[A], aggregate_id: UUID, fresh: bool = False, copy: bool = True) -> A | None:
        """`copy`: a deep copy of the cached aggregate (the library's default), else the cached object
        itself (for the group-commit writer only: see UnitOfWork). `fresh`: as the store has it now."""
        if fresh:
            brought_forward = self._brought_forward(aggregate_id)
            if brought_forward is not None:
                return brought_forward if isinstance(brought_forward, cls) else None
            self._forget([aggregate_id])
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _brought_forward(self, aggregate_id: UUID) -> Aggregate | None:
        """A fresh copy of a cached aggregate: the cached one with the events stored after its version
        (by other processes; one indexed read, nearly always empty), not a whole reload (the snapshot,
        every event, each decoded: a send checked its direct conversation's connection that way, 15% of
        a server's CPU with two processes). The cache gets the fresh copy. None: not cached (or in the
        middle of a command), for a whole reload."""
        cache = self.repository.cache
        try:
            cached = cache.get(aggregate_id) if cache is not None else None
        except KeyError:
            return None
        if not isinstance(cached, Aggregate) or cached.pending_events:
            return None
        aggregate: Aggregate | None = deepcopy(cached)
        newer = list(self.repository.event_store.get(aggregate_id, gt=cached.version))
        if newer:
            aggregate = project_aggregate(aggregate, newer)
            if aggregate is None:  # (no aggregate class ends itself that way; reload to be sure)
                return None
            with contextlib.suppress(KeyError):
                if cache is not None and cache.get(aggregate_id) is cached:  # else a save here replaced it
                    cache.put(aggregate_id, deepcopy(aggregate))
        return aggregate

    def _forget(self, aggregate_ids: list[Any]) -> None:
        cache = self.repository.cache
        if cache is not None:
            for aggregate_id in aggregate_ids:
                with contextlib.suppress(KeyError):
                    cache.get(aggregate_id, evict=True)

    def _retrying(self, attempt: Callable[[bool], T]) -> T:
        """Run `attempt`; after a conflict, run it again on fresh aggregates, backing off with jitter.
        With a shared store, a refusal made on cached aggregates is made again on fresh ones."""
        for number in range(ATTEMPTS):
            fresh = number > 0
            try:
                return attempt(fresh)
            except IntegrityError:
                if number == ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.002 * 2 ** min(number, 6)))
            except DomainError:
                if fresh or not self.shared_store:
                    raise
        raise AssertionError("unreachable")


def _position(recordings: list[Recording[Any]]) -> int | None:
    return recordings[-1].notification.id if recordings else None
