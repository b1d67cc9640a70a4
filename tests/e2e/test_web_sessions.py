"""Sessions in a real browser (contract v2 sections 5 and 12): with access tokens that live 3 seconds,
a signed-in page keeps sending and receiving well past several expiries without signing out, across
a reload too, renewing its tokens with the refresh token; `Sign out` ends the session on the server."""

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import (  # noqa: F401  (browser, aio and new_page are fixtures)
    AsyncThread,
    aio,
    browser,
    composer,
    connection_state,
    expect_log,
    new_page,
    open_direct,
    people,
    send_button,
    sign_in,
)
from tests.support.databases import database
from tests.support.server import ServerProcess

TOKEN_TTL_SECONDS = 3
NewPage = Callable[..., Page]


@pytest.fixture
def short_lived_tokens(tmp_path: Path) -> Iterator[ServerProcess]:
    with database("sqlite", tmp_path) as url:
        process = ServerProcess(url, {"PARLEY_TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS)}).start()
        try:
            yield process
        finally:
            process.stop()


def stored_session(page: Page) -> dict[str, object]:
    raw = page.evaluate("() => localStorage.getItem('parley.session')")
    assert isinstance(raw, str), "no session is stored"
    found: dict[str, object] = json.loads(raw)
    return found


def signed_out(page: Page) -> bool:
    return page.get_by_role("button", name="Sign in", exact=True).count() > 0


def test_a_page_keeps_chatting_past_many_access_token_expiries_and_a_reload(
    new_page: NewPage, aio: AsyncThread, short_lived_tokens: ServerProcess
) -> None:
    url = short_lived_tokens.url
    ada, bob = people(url, ("ada", "Ada"), ("bob", "Bob"))
    bobs = aio.socket(bob.sign_in())  # (a fresh token: a live socket stays connected past its expiry)
    page = new_page(url)
    sign_in(page, "ada")
    conversation_id = open_direct(page, "Bob")
    first = stored_session(page)

    bodies: list[str] = []
    started, round_ = time.monotonic(), 0
    while time.monotonic() - started < 4 * TOKEN_TTL_SECONDS or round_ < 3:  # well past several expiries
        round_ += 1
        composer(page).fill(f"Ada, round {round_}")
        send_button(page).click()
        assert aio.run(bobs.send(conversation_id, f"Bob, round {round_}"))["ok"]
        bodies += [f"Ada, round {round_}", f"Bob, round {round_}"]
        expect_log(page, bodies)
        assert not signed_out(page)
        expect(connection_state(page)).to_have_text("Connected")
        page.wait_for_timeout(500)  # (pacing the rounds, not waiting for an outcome)

    renewed = stored_session(page)
    assert renewed["token"] != first["token"] and renewed["refreshToken"] != first["refreshToken"]
    # (the rotated-away first refresh token is not presented here: that reuse would end the session)

    # A reload keeps the session (its access token may have expired meanwhile: it is renewed).
    page.wait_for_function(
        "(ttl) => JSON.parse(localStorage.getItem('parley.session')).expiresAt < Date.now() + ttl",
        arg=TOKEN_TTL_SECONDS * 1000,
    )
    page.reload()
    expect(connection_state(page)).to_have_text("Connected")
    conversation_link = page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Bob")
    conversation_link.click()
    expect_log(page, bodies)
    assert aio.run(bobs.send(conversation_id, "After the reload"))["ok"]
    expect_log(page, [*bodies, "After the reload"])
    assert not signed_out(page)

    # Sign out ends the session on the server: its refresh token is refused from then on.
    last = stored_session(page)
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert httpx.post(f"{url}/api/auth/refresh", json={"refresh_token": last["refreshToken"]}).status_code == 401
    assert ada.id  # (ada's own HTTP session is another one, untouched)
    aio.run(bobs.disconnect())
