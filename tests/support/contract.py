"""Checks that responses are what the wire contract declares (section 3; the declarations are the
server's own), and small clients for the end-to-end tests of the HTTP API and the sockets."""

import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import jwt
from pydantic import ValidationError

from interfaces.contract import adapter
from projections import shapes
from projections.shapes import ISO_UTC
from tests.support.clients import Person, Socket
from tests.support.server import ServerProcess


# -- shapes (contract section 3): validated against the server's own declarations -----------------
def conforms(shape: Any, value: Any) -> Any:
    """`value` is exactly `shape` as declared (interfaces/contract.py, projections/shapes.py): every
    required field, no unknown one (so no credentials leak), types strict, ids canonical UUIDs,
    timestamps ISO 8601 in UTC."""
    try:
        adapter(shape).validate_python(value)
    except ValidationError as error:
        raise AssertionError(f"not a {getattr(shape, '__name__', shape)}: {error}\n{value!r}") from None
    return value


def assert_timestamp(value: Any) -> datetime:
    assert isinstance(value, str) and ISO_UTC.match(value), f"not an ISO 8601 UTC timestamp: {value!r}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_uuid(value: Any) -> str:
    assert isinstance(value, str), f"not a UUID string: {value!r}"
    assert str(uuid.UUID(value)) == value.lower(), f"not a UUID string: {value!r}"
    return value


def assert_user(user: Any, username: str | None = None) -> dict[str, Any]:
    conforms(shapes.User, user)
    assert user["username"] == user["username"].lower() and user["display_name"].strip(), user
    if username is not None:
        assert user["username"] == username, user
    return user


def assert_connection(connection: Any, status: str | None = None) -> dict[str, Any]:
    conforms(shapes.Connection, connection)
    assert assert_timestamp(connection["updated_at"]) >= assert_timestamp(connection["created_at"]), connection
    if status is not None:
        assert connection["status"] == status, connection
    return connection


def assert_message(message: Any) -> dict[str, Any]:
    conforms(shapes.Message, message)
    assert message["seq"] >= 1, message
    return message


def assert_member(member: Any) -> dict[str, Any]:
    conforms(shapes.Member, member)
    assert member["last_delivered_seq"] >= 0 and member["last_read_seq"] >= 0, member
    return member


def assert_summary(summary: Any) -> dict[str, Any]:
    conforms(shapes.ConversationSummary, summary)
    assert len(summary["members"]) >= 2, summary
    if summary["last_message"] is None:
        assert summary["last_message_at"] is None, summary
    else:
        assert summary["last_message"]["conversation_id"] == summary["id"], summary
        assert assert_timestamp(summary["last_message_at"]) == assert_timestamp(summary["last_message"]["sent_at"])
    assert summary["unread_count"] >= 0, summary
    return summary


def assert_error(response: httpx.Response, status: int, code: str, case: str = "") -> None:
    """The contract's error body: {"error": {"code", "message"}} with the given status."""
    where = f"{case + ': ' if case else ''}{response.request.method} {response.request.url}"
    got = f"{response.status_code} {response.text}"
    assert response.status_code == status, f"{where}: expected {status} {code}, got {got}"
    assert response.headers.get("content-type", "").startswith("application/json"), f"{where}: {response.headers}"
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"{where}: {body}"
    assert body["error"]["code"] == code, f"{where}: expected {code}, got {body}"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], f"{where}: {body}"


# -- clients --------------------------------------------------------------------------------------
class Api:
    """One request per connection, optionally as someone (a Person or a raw token)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def request(self, method: str, path: str, as_: Person | str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        token = as_.token if isinstance(as_, Person) else as_
        if token:
            headers["Authorization"] = f"Bearer {token}"
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            return client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, as_: Person | str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, as_, **kwargs)

    def post(self, path: str, as_: Person | str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, as_, **kwargs)

    def delete(self, path: str, as_: Person | str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, as_, **kwargs)


def token_for(user_id: str, secret: str, sid: str, expires_in: int = 3600, **headers: Any) -> str:
    now = int(time.time())
    claims = {"sub": user_id, "sid": sid, "iat": now, "exp": now + expires_in}
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers)


def session_of(access_token: str) -> str:
    """The session id (`sid`) an access token carries."""
    return str(jwt.decode(access_token, options={"verify_signature": False})["sid"])


def bad_tokens(server: ServerProcess, user_id: str, sid: str) -> dict[str, str]:
    """Tokens that must be refused: malformed, wrongly signed, expired, unsigned, of nobody, of no session,
    of another user's session (`sid`: a live session of `user_id`)."""
    secret = server.env["PARLEY_JWT_SECRET"]
    now = int(time.time())
    return {
        "garbage": "garbage",
        "three garbage segments": "abc.def.ghi",
        "signed with another secret": token_for(user_id, "another-secret-" + "y" * 32, sid),
        "expired": jwt.encode(
            {"sub": user_id, "sid": sid, "iat": now - 7200, "exp": now - 60}, secret, algorithm="HS256"
        ),
        "alg none": jwt.encode({"sub": user_id, "sid": sid, "exp": now + 3600}, None, algorithm="none"),
        "no such user": token_for(str(uuid.uuid4()), secret, str(uuid.uuid4())),
        "no session": jwt.encode({"sub": user_id, "iat": now, "exp": now + 3600}, secret, algorithm="HS256"),
        "no such session": token_for(user_id, secret, str(uuid.uuid4())),
        "another user's session": token_for(str(uuid.uuid4()), secret, sid),
    }


async def direct_conversation(a: Socket, other: Person) -> str:
    started = await a.call("start_conversation", {"user_ids": [other.id]})
    assert started["ok"] is True, started
    return started["conversation"]["id"]


async def send_ok(socket: Socket, conversation_id: str, body: str) -> dict[str, Any]:
    sent = await socket.send(conversation_id, body)
    assert sent["ok"] is True, sent
    return sent["message"]
