"""The "your data" builder (application/my_data.py) on the in-memory store: small chunks join into the
one declared document, and fields that erasure made unreadable (None from the store) come out as null."""

import dataclasses
import json
from typing import Any
from uuid import uuid4

import pytest

from application import my_data
from application.commands import Parley
from application.my_data import MyDataExport, Streams
from interfaces import contract
from tests.support.contract import conforms

ERASABLE = ("username", "display_name", "password_hash", "body", "filename")


def test_small_chunks_join_into_the_declared_document_with_erased_fields_as_null(
    app: Parley, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, ben = app.register_user("ann", "password-a").id, app.register_user("ben", "password-b").id
    connection = app.request_connection(ann, "ben").id
    app.accept_connection(connection, ben)
    conversation = app.start_conversation(ann, [ben], None).id
    sent = [app.send_message(conversation, ann, uuid4(), f"message {n}") for n in range(30)]
    app.edit_message(conversation, ann, sent[0].message_id, "message 0, edited")
    app.delete_message(conversation, ann, sent[1].message_id)
    upload = app.store_upload(ann, "secret plans.txt", "text/plain", 5, "0" * 64, None, None, None).id
    with_file = app.send_message(conversation, ann, uuid4(), "see file", attachment_ids=(upload,))
    app.send_message(conversation, ben, uuid4(), "ben's words")

    decode = app.mapper.to_domain_event

    def erased(stored: Any) -> Any:  # what the mapper gives once the keys are destroyed
        event = decode(stored)
        present = {f.name for f in dataclasses.fields(event)} & set(ERASABLE)
        return dataclasses.replace(event, **dict.fromkeys(present))

    monkeypatch.setattr(app.mapper, "to_domain_event", erased)
    monkeypatch.setattr(my_data, "CHUNK_BYTES", 100)
    streams = Streams(
        connections=[connection], conversations=[conversation], blocked=[], uploads=[(upload, conversation)]
    )
    builder = MyDataExport(app, ann, streams)
    chunks = []
    while (chunk := builder.next_chunk()) is not None:
        chunks.append(chunk)
    assert len(chunks) > 20 and builder.next_chunk() is None
    export = conforms(contract.MyDataExport, json.loads(b"".join(chunks)))

    assert export["profile"]["username"] is None and export["profile"]["display_name"] is None
    messages = export["messages"]
    assert [m["seq"] for m in messages] == list(range(1, 32))  # ann's 31, not ben's
    assert all(m["body"] is None and all(v["body"] is None for v in m["versions"]) for m in messages)
    assert len(messages[0]["versions"]) == 2 and messages[1]["deleted"] is True
    [file] = next(m for m in messages if m["id"] == str(with_file.message_id))["attachments"]
    assert (file["id"], file["filename"], file["size"]) == (str(upload), None, 5)
    assert export["uploads"] == [file]
    assert [c["other_user_id"] for c in export["connections"]] == [str(ben)]
