"""Contract v2 section 9 from httpx and python-socketio clients on a real server, on SQLite and
PostgreSQL: uploads sniffed and measured, attached once to a message of their uploader, shown to
the members, downloaded by signed expiring paths, and removed with the message."""

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from interfaces.contract import UploadBody
from tests.support.clients import Person, Socket
from tests.support.contract import assert_message, conforms, direct_conversation
from tests.support.server import ServerProcess


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), "red" if mode == "RGB" else 0).save(out, "PNG")
    return out.getvalue()


def upload(person: Person, filename: str, data: bytes, content_type: str = "application/octet-stream") -> Any:
    with person.http() as http:
        return http.post("/api/uploads", files={"file": (filename, data, content_type)})


def uploaded(person: Person, filename: str, data: bytes, content_type: str = "application/octet-stream") -> Any:
    response = upload(person, filename, data, content_type)
    assert response.status_code == 201, response.text
    return conforms(UploadBody, response.json())["upload"]


async def send_files(s: Socket, conversation_id: str, ids: list[str], body: str = "") -> dict[str, Any]:
    payload = {"conversation_id": conversation_id, "client_message_id": str(uuid.uuid4()), "body": body}
    return await s.call("send_message", {**payload, "attachment_ids": ids})


def blobs(root: Path) -> set[str]:
    return {p.name for p in root.glob("??/??/*")}


async def test_an_image_travels_as_an_attachment_and_leaves_with_its_message(server: ServerProcess) -> None:
    alice, bob = Person(server.url, "alice").register(), Person(server.url, "bob").register()
    carol = Person(server.url, "carol").register()
    alice.connect_with(bob)
    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    conversation = await direct_conversation(a, bob)
    for s in (a, b):
        assert (await s.call("join_conversation", {"conversation_id": conversation}))["ok"]

    # A PNG named .jpg and declared text/plain: its type comes from its bytes, with dimensions and a thumbnail.
    picture = uploaded(alice, "holiday/../photos\\beach.jpg", png(1280, 640), "text/plain")
    assert picture["content_type"] == "image/png"
    assert (picture["width"], picture["height"], picture["filename"]) == (1280, 640, "beach.jpg")
    assert picture["thumbnail_url"] is not None
    document = uploaded(alice, "notes.pdf", b"%PDF-1.4\n" + b"x" * 5000)
    assert (document["content_type"], document["width"], document["thumbnail_url"]) == ("application/pdf", None, None)

    sent = await send_files(a, conversation, [picture["id"], document["id"]])  # no text: the files say it all
    assert sent["ok"] is True, sent
    message = assert_message(sent["message"])
    assert [f["id"] for f in message["attachments"]] == [picture["id"], document["id"]]
    arrived = assert_message(await b.next_matching("message_new", lambda m: m["id"] == message["id"], 10))
    assert [f["filename"] for f in arrived["attachments"]] == ["beach.jpg", "notes.pdf"]
    page = await b.call("get_messages", {"conversation_id": conversation})
    shown = page["messages"][-1]["attachments"]
    assert [f["sha256"] for f in shown] == [picture["sha256"], document["sha256"]]

    # Downloads need no header; images inline, other files as attachments; never sniffed by the browser.
    with httpx.Client(base_url=server.url, timeout=10) as anyone:
        image = anyone.get(shown[0]["url"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.headers["x-content-type-options"] == "nosniff" and "content-disposition" not in image.headers
        assert Image.open(io.BytesIO(image.content)).size == (1280, 640)
        thumbnail = anyone.get(shown[0]["thumbnail_url"])
        assert thumbnail.status_code == 200 and max(Image.open(io.BytesIO(thumbnail.content)).size) == 320
        pdf = anyone.get(shown[1]["url"])
        assert pdf.status_code == 200 and pdf.headers["content-disposition"].startswith("attachment")
        assert pdf.headers["x-content-type-options"] == "nosniff"
        forged = shown[0]["url"].replace("signature=", "signature=0")
        assert anyone.get(forged).json()["error"]["code"] == "forbidden"
        other_file = shown[0]["url"].replace(picture["id"], document["id"])  # a signature is for one file
        assert anyone.get(other_file).status_code == 403
        expired = shown[0]["url"].split("?")[0] + "?expires=1000&signature=" + "0" * 64
        assert anyone.get(expired).status_code == 403

    # Attached once, by its uploader only; at most 10, distinct.
    again = await send_files(a, conversation, [picture["id"]], "again")
    assert again["ok"] is False and again["error"]["code"] == "not_found", again
    bobs = uploaded(bob, "b.txt", b"bob's own words")
    theirs = await send_files(a, conversation, [bobs["id"]], "not mine")
    assert theirs["ok"] is False and theirs["error"]["code"] == "not_found", theirs
    fresh = uploaded(alice, "c.txt", b"words")
    twice = await send_files(a, conversation, [fresh["id"], fresh["id"]], "twice")
    assert twice["ok"] is False and twice["error"]["code"] == "validation_error", twice
    eleven = await send_files(a, conversation, [fresh["id"]] * 11, "many")
    assert eleven["ok"] is False and eleven["error"]["code"] == "validation_error", eleven
    empty = await a.send(conversation, "  ")
    assert empty["ok"] is False and empty["error"]["code"] == "validation_error", empty
    with carol.http() as http:  # not a member: no Attachment objects reach her
        assert http.get(f"/api/conversations/{conversation}/messages").status_code in (403, 404)

    # Deleting the message removes the bytes and thumbnail: the paths answer 404.
    digests = {picture["sha256"], document["sha256"]}
    assert digests <= blobs(server.blob_dir)
    deleted = await a.call("delete_message", {"conversation_id": conversation, "message_id": message["id"]})
    assert deleted["ok"] is True and deleted["message"]["attachments"] == [], deleted
    assert not digests & blobs(server.blob_dir)
    with httpx.Client(base_url=server.url, timeout=10) as anyone:
        gone = anyone.get(shown[0]["url"])
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
        assert anyone.get(shown[0]["thumbnail_url"]).status_code == 404
    for s in (a, b):
        await s.disconnect()


def test_hostile_uploads_get_a_clear_error_or_safe_handling(database_url: str) -> None:
    limit = 200_000
    server = ServerProcess(database_url, env={"PARLEY_MAX_UPLOAD_BYTES": str(limit)}).start()
    try:
        alice = Person(server.url, "alice").register()

        # HTML or SVG with script named .png: stored as text, downloaded as an attachment, never rendered.
        for name, data in (
            ("page.png", b"<html><body><script>alert(document.cookie)</script></body></html>"),
            ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ):
            stored = uploaded(alice, name, data, "image/png")
            assert stored["content_type"] == "text/plain; charset=utf-8" and stored["thumbnail_url"] is None
            with httpx.Client(base_url=server.url, timeout=10) as anyone:
                got = anyone.get(stored["url"])
            assert got.status_code == 200 and got.content == data
            assert got.headers["content-type"].startswith("text/plain")
            assert got.headers["x-content-type-options"] == "nosniff"
            assert got.headers["content-disposition"].startswith("attachment")

        # A decompression bomb: a small file that would decode to 400 megapixels.
        bomb = png(20_000, 20_000, "1")
        assert len(bomb) < limit
        refused = upload(alice, "bomb.png", bomb)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error", refused.text
        # A PNG cut in half: its header says PNG, its pixels are missing.
        whole = io.BytesIO()
        Image.effect_noise((300, 300), 64).save(whole, "PNG")
        truncated = upload(alice, "half.png", whole.getvalue()[: len(whole.getvalue()) // 2])
        assert truncated.status_code == 422, truncated.text

        # Over the limit: refused while it streams (no Content-Length to judge it by), nothing left behind.
        def chunks() -> Any:
            yield b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
            for _ in range(10):
                yield b"\0" * 65536
            yield b"\r\n--XyZ--\r\n"

        with alice.http() as http:
            big = http.post(
                "/api/uploads", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
            )
            assert big.status_code == 413 and big.json()["error"]["code"] == "too_large", big.text
            declared = http.post("/api/uploads", files={"file": ("big.bin", b"\0" * (limit + 1))})
            assert declared.status_code == 413, declared.text

            # A multipart body cut short, an empty file, no file, two files, not multipart at all.
            cut = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello'
            short = http.post(
                "/api/uploads", content=cut, headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
            )
            assert short.status_code == 422 and "incomplete" in short.json()["error"]["message"], short.text
            assert http.post("/api/uploads", files={"file": ("e.txt", b"")}).status_code == 422
            assert http.post("/api/uploads", files={"other": ("o.txt", b"x")}).status_code == 422
            two = [("file", ("1.txt", b"one")), ("file", ("2.txt", b"two"))]
            assert http.post("/api/uploads", files=two).status_code == 422
            assert http.post("/api/uploads", json={"file": "x"}).status_code == 422
        with httpx.Client(base_url=server.url, timeout=10) as anonymous:
            assert anonymous.post("/api/uploads", files={"file": ("a.txt", b"x")}).status_code == 401
        assert not any(p.stat().st_size > limit for p in server.blob_dir.rglob("*") if p.is_file())
        assert not list((server.blob_dir / "tmp").iterdir()), "no temporary file left behind"
    finally:
        server.stop()
