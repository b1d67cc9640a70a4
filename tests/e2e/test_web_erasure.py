"""Erasure in the web client (contract v2 sections 5 and 11), in headless Chromium against a real
`parley serve`: a user deletes her account from the Settings page (a wrong password first: an alert,
still signed in; then the right one: signed out, in her other tab too), and the person she chatted
with sees, live, her messages become tombstones and her name become `Deleted user`. Her old
credentials and tokens are refused from then on. Elements are found only by accessible names.
"""

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Locator, Page, Request, expect

from tests.e2e.browser import (  # noqa: F401  (browser, new_page and sqlite_server are fixtures)
    CONVERSATION_HASH,
    browser,
    composer,
    connection_state,
    conversation_item,
    expect_log,
    expect_signed_in,
    message,
    message_log,
    new_page,
    open_direct,
    open_settings,
    people,
    screenshot,
    sign_in,
    sqlite_server,
    tombstones,
)
from tests.support.clients import Person
from tests.support.server import ServerProcess

NewPage = Callable[..., Page]
WRONG_PASSWORD = "not my password"


def send(page: Page, body: str) -> None:
    composer(page).fill(body)
    composer(page).press("Enter")
    expect(composer(page)).to_have_value("")


def delete_account_form(page: Page) -> Locator:
    """Clicks `Delete account` on the Settings page; returns its section (the form with `Password`)."""
    page.get_by_role("button", name="Delete account", exact=True).click()
    section = page.get_by_role("region", name="Delete account", exact=True)
    expect(section.get_by_label("Password", exact=True)).to_be_focused()
    return section


def signed_out_screen(page: Page) -> Locator:
    return page.get_by_role("button", name="Sign in", exact=True)


def stored_session(page: Page) -> object:
    return page.evaluate("() => localStorage.getItem('parley.session')")


def status_of_me(person: Person) -> int:
    with person.http() as http:
        return http.get("/api/users/me").status_code


def test_a_user_deletes_her_account_and_the_other_side_sees_deleted_user_and_tombstones(
    new_page: NewPage, sqlite_server: ServerProcess
) -> None:
    url = sqlite_server.url
    alice, _bob = people(url, ("alice", "Alice Liddell"), ("bob", "Bob Dylan"))
    page_a, page_b = new_page(url), new_page(url)
    sign_in(page_a, "alice")
    sign_in(page_b, "bob")
    conversation_id = open_direct(page_a, "Bob Dylan")
    page_b.goto(f"{url}/#/c/{conversation_id}")
    expect(message_log(page_b)).to_be_visible()

    send(page_a, "Hello from Alice")
    expect_log(page_b, ["Hello from Alice"])
    send(page_b, "Hi Alice, Bob here")
    send(page_a, "Down the rabbit hole")
    conversation = ["Hello from Alice", "Hi Alice, Bob here", "Down the rabbit hole"]
    expect_log(page_a, conversation)
    expect_log(page_b, conversation)
    expect(page_b.get_by_role("heading", name="Alice Liddell", exact=True)).to_be_visible()

    # Alice's second tab (same browser, same stored session).
    tab_a = page_a.context.new_page()
    tab_a.goto(url + "/")
    expect_signed_in(tab_a)

    # A wrong password: the server's message in an alert, and nothing changes.
    open_settings(page_a)
    section = delete_account_form(page_a)
    expect(section).to_contain_text("cannot be undone")
    password = section.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("type", "password")
    password.fill(WRONG_PASSWORD)
    section.get_by_role("button", name="Delete my account", exact=True).click()
    alert = section.get_by_role("alert")
    expect(alert).to_have_text(re.compile(r"\w"))
    expect(alert).not_to_have_text("Enter your password to delete your account.")
    screenshot(page_a, "desktop-delete-account.png")
    expect(signed_out_screen(page_a)).to_have_count(0)
    expect(connection_state(page_a)).to_have_text("Connected")
    assert stored_session(page_a) is not None
    assert status_of_me(alice) == 200
    expect(page_b.get_by_role("heading", name="Alice Liddell", exact=True)).to_be_visible()
    expect(message(page_b, "Hello from Alice")).to_have_count(1)

    # The right password: signed out here and in the other tab, the session gone from storage.
    socket_requests: list[str] = []

    def on_request(request: Request) -> None:
        if "/socket.io/" in request.url:
            socket_requests.append(request.url)

    password.fill(alice.password)
    section.get_by_role("button", name="Delete my account", exact=True).click()
    expect(signed_out_screen(page_a)).to_be_visible()
    page_a.on("request", on_request)
    expect(page_a.get_by_role("status")).to_have_text("Your account was deleted.")
    assert stored_session(page_a) is None
    expect(signed_out_screen(tab_a)).to_be_visible()
    assert stored_session(tab_a) is None

    # Bob sees, live, her messages become tombstones and her name `Deleted user`; his stays.
    expect(page_b.get_by_role("heading", name="Deleted user", exact=True)).to_be_visible()
    expect(tombstones(page_b)).to_have_count(2)
    expect(message(page_b, "Hello from Alice")).to_have_count(0)
    expect(message(page_b, "Down the rabbit hole")).to_have_count(0)
    expect(message(page_b, "Hi Alice, Bob here")).to_have_count(1)
    expect(conversation_item(page_b, "Deleted user")).to_be_visible()
    expect(page_b).to_have_url(CONVERSATION_HASH)
    expect(page_b.get_by_text("Alice Liddell")).to_have_count(0)
    expect(page_b.get_by_text("@alice")).to_have_count(0)
    screenshot(page_b, "desktop-deleted-user.png")
    # ... and after a reload too (the server's read models, not only the live events).
    page_b.reload()
    expect(page_b.get_by_role("heading", name="Deleted user", exact=True)).to_be_visible()
    expect(tombstones(page_b)).to_have_count(2)
    expect(message(page_b, "Hi Alice, Bob here")).to_have_count(1)

    # Her old credentials are refused (an alert, still signed out), and so is her old token.
    page_a.get_by_label("Username", exact=True).fill("alice")
    page_a.get_by_label("Password", exact=True).fill(alice.password)
    page_a.get_by_role("button", name="Sign in", exact=True).click()
    expect(page_a.get_by_role("alert")).to_be_visible()
    expect(signed_out_screen(page_a)).to_be_visible()
    assert stored_session(page_a) is None
    assert status_of_me(alice) == 401
    login = httpx.post(f"{url}/api/auth/login", json={"username": "alice", "password": alice.password}, timeout=10)
    assert login.status_code == 401

    # The signed-out page never tried to reconnect with its refused token (it stopped its socket first).
    assert socket_requests == []
