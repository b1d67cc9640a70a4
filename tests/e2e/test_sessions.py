"""Sessions (contract v2 section 12), on both databases: refresh tokens rotate, a reused one ends its
session, sign-out (here or everywhere) and a password change end sessions, and an ended session's
access tokens are refused and its live sockets disconnected while other sessions' stay."""

import uuid

import httpx

from interfaces.contract import SignedIn
from tests.e2e.test_socket_contract import connect_refused, refused_code
from tests.support.clients import Person, Socket
from tests.support.contract import conforms
from tests.support.server import ServerProcess
from tests.support.waiting import until


def person(server: ServerProcess, name: str) -> Person:
    return Person(server.url, f"{name}-{uuid.uuid4().hex[:6]}").register()


def post(server: ServerProcess, path: str, body: object, token: str = "") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(server.url + path, json=body, headers=headers, timeout=10)


def me(server: ServerProcess, token: str) -> int:
    return httpx.get(server.url + "/api/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def refresh(server: ServerProcess, refresh_token: str) -> httpx.Response:
    return post(server, "/api/auth/refresh", {"refresh_token": refresh_token})


def unauthorized(response: httpx.Response) -> bool:
    return response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


async def refused_handshake(someone: Person) -> bool:
    """Whether a socket with this person's access token is refused with `unauthorized`."""
    refusal = await connect_refused(someone.base_url, auth={"token": someone.token})
    return bool(refused_code(refusal) == "unauthorized")


def test_refresh_rotates_and_the_old_refresh_token_is_then_refused(server: ServerProcess) -> None:
    alice = person(server, "alice")
    renewed = refresh(server, alice.refresh_token)
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert conforms(SignedIn, body)
    assert body["refresh_token"] != alice.refresh_token and body["user"]["id"] == alice.id
    assert body["refresh_expires_in"] == 30 * 24 * 3600
    assert me(server, body["access_token"]) == 200
    again = refresh(server, body["refresh_token"])  # the new one rotates in turn
    assert again.status_code == 200, again.text
    assert unauthorized(refresh(server, "not-a-token"))


async def test_reusing_a_rotated_refresh_token_ends_the_whole_session(server: ServerProcess) -> None:
    alice = person(server, "alice")
    other_device = alice.sign_in()
    other_socket = await Socket(other_device).connect()
    first = refresh(server, alice.refresh_token).json()
    socket = await Socket(Person(server.url, alice.username, token=first["access_token"], user=alice.user)).connect()

    reused = refresh(server, alice.refresh_token)  # the rotated-away token comes back: it leaked
    assert unauthorized(reused)
    assert unauthorized(refresh(server, first["refresh_token"]))  # the newest one of the session too
    assert me(server, first["access_token"]) == 401 and me(server, alice.token) == 401
    await until(lambda: not socket.client.connected, "the ended session's socket is disconnected")
    assert await refused_handshake(Person(server.url, alice.username, token=first["access_token"]))

    assert me(server, other_device.token) == 200  # another session of the same user goes on
    assert other_socket.client.connected
    assert (await other_socket.call("get_conversations"))["ok"] is True
    assert refresh(server, other_device.refresh_token).status_code == 200
    await other_socket.disconnect()


async def test_logout_ends_this_session_and_its_sockets_only(server: ServerProcess) -> None:
    alice = person(server, "alice")
    phone = alice.sign_in()
    laptop, phone_socket = await Socket(alice).connect(), await Socket(phone).connect()

    response = post(server, "/api/auth/logout", {}, alice.token)
    assert response.status_code == 200 and response.json() == {}
    assert me(server, alice.token) == 401
    assert unauthorized(refresh(server, alice.refresh_token))
    await until(lambda: not laptop.client.connected, "the signed-out session's socket is disconnected")
    assert await refused_handshake(alice)

    assert phone_socket.client.connected and me(server, phone.token) == 200
    assert (await phone_socket.call("get_conversations"))["ok"] is True
    no_body = httpx.post(server.url + "/api/auth/logout", headers={"Authorization": f"Bearer {phone.token}"})
    assert no_body.status_code == 200  # no body means {}
    await until(lambda: not phone_socket.client.connected, "the second session's socket is disconnected")
    assert unauthorized(post(server, "/api/auth/logout", {}, phone.token))


async def test_logout_everywhere_ends_every_session_of_the_user(server: ServerProcess) -> None:
    alice, bob = person(server, "alice"), person(server, "bob")
    phone = alice.sign_in()
    sockets = [await Socket(alice).connect(), await Socket(phone).connect()]
    bobs = await Socket(bob).connect()

    assert post(server, "/api/auth/logout", {"everywhere": "yes"}, alice.token).status_code == 422
    assert post(server, "/api/auth/logout", {"everywhere": True}, alice.token).status_code == 200
    for socket in sockets:
        await until(lambda s=socket: not s.client.connected, "every socket of the user is disconnected")
    assert me(server, alice.token) == 401 and me(server, phone.token) == 401
    assert unauthorized(refresh(server, phone.refresh_token))
    assert bobs.client.connected and me(server, bob.token) == 200  # another user is untouched
    await bobs.disconnect()


async def test_password_change_ends_other_sessions_and_this_one_continues(server: ServerProcess) -> None:
    alice = person(server, "alice")
    phone = alice.sign_in()
    laptop, phone_socket = await Socket(alice).connect(), await Socket(phone).connect()

    wrong = post(
        server, "/api/auth/password", {"current_password": "wrong password", "new_password": "x" * 12}, alice.token
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    short = post(
        server, "/api/auth/password", {"current_password": alice.password, "new_password": "short"}, alice.token
    )
    assert short.status_code == 422
    assert me(server, phone.token) == 200  # refusals change nothing

    changed = post(
        server,
        "/api/auth/password",
        {"current_password": alice.password, "new_password": "a new long password"},
        alice.token,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert conforms(SignedIn, body)
    await until(lambda: not phone_socket.client.connected, "the other session's socket is disconnected")
    assert me(server, phone.token) == 401 and unauthorized(refresh(server, phone.refresh_token))
    assert laptop.client.connected and (await laptop.call("get_conversations"))["ok"] is True
    assert me(server, alice.token) == 200 and me(server, body["access_token"]) == 200  # this session goes on
    assert refresh(server, body["refresh_token"]).status_code == 200

    old = post(server, "/api/auth/login", {"username": alice.username, "password": alice.password})
    assert old.status_code == 401
    new = post(server, "/api/auth/login", {"username": alice.username, "password": "a new long password"})
    assert new.status_code == 200
    await laptop.disconnect()


def test_sessions_survive_a_server_restart(database_url: str) -> None:
    first = ServerProcess(database_url).start()
    try:
        alice = person(first, "alice")
    finally:
        first.stop()
    second = ServerProcess(database_url, env=first.env).start()
    try:
        assert me(second, alice.token) == 200
        assert refresh(second, alice.refresh_token).status_code == 200
    finally:
        second.stop()
