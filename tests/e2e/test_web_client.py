"""The web client in a real browser (headless Chromium) against a real `parley serve`.

Elements are found only by the accessible names of section 5 of the contract. Most tests run on a
SQLite database (browser tests are slow); the session-and-reload test runs on both databases.
Screenshots for the docs are written to docs/screenshots/.
"""

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.browser import (  # noqa: F401  (browser, aio, new_page and sqlite_server are fixtures)
    CONVERSATION_HASH,
    DESKTOP,
    PHONE,
    UNREAD,
    AsyncThread,
    aio,
    browser,
    composer,
    connected_person,
    connection_state,
    conversation_item,
    conversations,
    expect_log,
    log_items,
    message,
    message_log,
    message_state,
    new_page,
    open_direct,
    people,
    screenshot,
    send_button,
    sign_in,
    sign_up,
    sqlite_server,
)
from tests.support.clients import Person, Socket
from tests.support.server import ServerProcess

NewPage = Callable[..., Page]


def test_two_people_sign_up_connect_and_chat_with_receipts_typing_and_unread(
    new_page: NewPage, sqlite_server: ServerProcess
) -> None:
    url = sqlite_server.url
    ada, grace = new_page(url), new_page(url)

    sign_up(ada, "ada", "Ada Lovelace")
    expect(conversations(ada)).to_be_visible()

    # A wrong password: the server's own message is shown in an alert, and nobody is signed in.
    refused = httpx.post(f"{url}/api/auth/login", json={"username": "ada", "password": "not the password"})
    assert refused.status_code == 401
    grace.get_by_label("Username", exact=True).fill("ada")
    grace.get_by_label("Password", exact=True).fill("not the password")
    grace.get_by_role("button", name="Sign in", exact=True).click()
    expect(grace.get_by_role("alert")).to_have_text(refused.json()["error"]["message"])
    expect(conversations(grace)).to_have_count(0)

    sign_up(grace, "grace", "Grace Hopper")

    # Ada asks Grace to connect; Grace sees the request live and accepts it.
    ada.get_by_label("Add connection", exact=True).fill("grace")
    ada.get_by_role("button", name="Send request", exact=True).click()
    expect(grace.get_by_role("button", name="Decline", exact=True)).to_be_visible()
    grace.get_by_role("button", name="Accept", exact=True).click()
    expect(grace.get_by_role("button", name="Accept", exact=True)).to_have_count(0)

    # Both are signed in, so each sees the other online.
    expect(connected_person(ada, "Grace Hopper").get_by_role("img", name="Online", exact=True)).to_be_visible()
    expect(connected_person(grace, "Ada Lovelace").get_by_role("img", name="Online", exact=True)).to_be_visible()

    open_direct(ada, "Grace Hopper")
    expect(conversation_item(grace, "Ada Lovelace")).to_be_visible()

    # Ada writes while Grace has not opened the conversation: delivered, not read, and unread for Grace.
    composer(ada).fill("Hello Grace")
    composer(ada).press("Enter")
    expect(composer(ada)).to_have_value("")
    expect(message_state(ada, "Hello Grace")).to_have_text(re.compile(r"^(Sending|Sent|Delivered)$"))
    expect(message_state(ada, "Hello Grace")).to_have_text("Delivered")
    grace_item = conversation_item(grace, "Ada Lovelace")
    expect(grace_item).to_contain_text("Hello Grace")
    expect(grace_item.get_by_role("img", name="1 unread", exact=True)).to_be_visible()
    expect(message_state(ada, "Hello Grace")).to_have_text("Delivered")  # still not Read

    # Grace opens it: the badge goes away and Ada's message becomes Read.
    grace_item.click()
    expect(grace).to_have_url(CONVERSATION_HASH)
    expect_log(grace, ["Hello Grace"])
    expect(conversations(grace).get_by_role("img", name=UNREAD)).to_have_count(0)
    expect(message_state(ada, "Hello Grace")).to_have_text("Read")

    # Typing is shown to the other side while Ada types, and ends when she sends (with the button).
    composer(ada).press_sequentially("How are you?")
    expect(grace.get_by_text("Ada Lovelace is typing", exact=True)).to_be_visible()
    send_button(ada).click()
    expect(grace.get_by_text("Ada Lovelace is typing", exact=True)).to_have_count(0)

    composer(grace).press_sequentially("Very well, thanks")
    expect(ada.get_by_text("Grace Hopper is typing", exact=True)).to_be_visible()
    composer(grace).press("Enter")
    composer(grace).fill("And you?")
    send_button(grace).click()

    chat = ["Hello Grace", "How are you?", "Very well, thanks", "And you?"]
    for page in (ada, grace):
        expect_log(page, chat)
    expect(message_state(ada, "How are you?")).to_have_text("Read")
    expect(message_state(grace, "And you?")).to_have_text("Read")
    # Nobody gets a state on somebody else's message.
    expect(message(ada, "And you?").get_by_text(re.compile(r"^(Sent|Delivered|Read)$"))).to_have_count(0)

    # The lists show the other party and the last message.
    expect(conversation_item(ada, "Grace Hopper")).to_contain_text("And you?")
    expect(conversation_item(grace, "Ada Lovelace")).to_contain_text("And you?")

    # Grace leaves the conversation: a new message from Ada is unread in her list until she opens it.
    grace.goto(url + "/#/")
    expect(message_log(grace)).to_have_count(0)
    composer(ada).fill("Are you still there?")
    send_button(ada).click()
    grace_item = conversation_item(grace, "Ada Lovelace")
    expect(grace_item.get_by_role("img", name="1 unread", exact=True)).to_be_visible()
    expect(grace_item).to_contain_text("Are you still there?")
    expect(message_state(ada, "Are you still there?")).to_have_text("Delivered")
    grace_item.click()
    expect_log(grace, [*chat, "Are you still there?"])
    expect(grace_item.get_by_role("img", name=UNREAD)).to_have_count(0)
    expect(message_state(ada, "Are you still there?")).to_have_text("Read")
    expect_log(ada, [*chat, "Are you still there?"])

    # Ada signs off (closes her window): Grace sees her go offline.
    expect(connected_person(grace, "Ada Lovelace").get_by_role("img", name="Online", exact=True)).to_be_visible()
    ada.context.close()
    expect(connected_person(grace, "Ada Lovelace").get_by_role("img", name="Offline", exact=True)).to_be_visible()


def test_the_session_survives_a_reload(new_page: NewPage, server: ServerProcess) -> None:
    """On both databases: signed in through the UI, a reload keeps the user signed in, in the same chat."""
    people(server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))
    ada = new_page(server.url)
    sign_in(ada, "ada")
    open_direct(ada, "Grace Hopper")
    composer(ada).fill("Before the reload")
    composer(ada).press("Enter")
    expect(message_state(ada, "Before the reload")).to_have_text("Sent")
    opened = ada.url

    ada.reload()
    expect(conversations(ada)).to_be_visible()
    expect(ada.get_by_role("button", name="Sign in", exact=True)).to_have_count(0)
    expect(connection_state(ada)).to_have_text("Connected")
    expect(conversation_item(ada, "Grace Hopper")).to_contain_text("Before the reload")
    assert ada.url == opened
    expect_log(ada, ["Before the reload"])
    expect(message_state(ada, "Before the reload")).to_have_text("Sent")

    # The restored session is a working one: sending still goes through.
    composer(ada).fill("After the reload")
    send_button(ada).click()
    expect(message_state(ada, "After the reload")).to_have_text("Sent")
    expect_log(ada, ["Before the reload", "After the reload"])

    # Signing out ends it: a reload then shows the sign-in screen.
    ada.get_by_role("button", name="Sign out", exact=True).click()
    ada.reload()
    expect(ada.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(conversations(ada)).to_have_count(0)


def test_a_failed_send_is_retried_once_the_server_is_back_and_arrives_once(
    new_page: NewPage, sqlite_server: ServerProcess
) -> None:
    people(sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))
    ada, grace = new_page(sqlite_server.url), new_page(sqlite_server.url)
    sign_in(ada, "ada")
    sign_in(grace, "grace")
    open_direct(ada, "Grace Hopper")
    conversation_item(grace, "Ada Lovelace").click()
    composer(ada).fill("Before the outage")
    composer(ada).press("Enter")
    expect_log(grace, ["Before the outage"])
    expect(message_state(ada, "Before the outage")).to_have_text("Read")

    sqlite_server.stop()
    expect(connection_state(ada)).not_to_have_text("Connected")
    composer(ada).fill("Sent during the outage")
    composer(ada).press("Enter")
    # No ack comes: after the client's 10 s timeout the message is Failed, with a Retry button.
    expect(message_state(ada, "Sent during the outage")).to_have_text("Failed", timeout=15_000)
    retry = message(ada, "Sent during the outage").get_by_role("button", name="Retry", exact=True)
    expect(retry).to_be_visible()

    sqlite_server.start()
    expect(connection_state(ada)).to_have_text("Connected", timeout=20_000)
    expect(connection_state(grace)).to_have_text("Connected", timeout=20_000)
    # Back online, the message is still the user's to retry: it was not sent behind their back
    # (someone who re-typed it instead would otherwise have sent it twice).
    expect(message_state(ada, "Sent during the outage")).to_have_text("Failed")
    expect(log_items(grace)).to_have_count(1)
    retry.click()
    expect(message_state(ada, "Sent during the outage")).to_have_text(re.compile(r"^(Sent|Delivered|Read)$"))
    expect(retry).to_have_count(0)
    # Grace (who has the conversation open) gets it exactly once, so Ada sees it read.
    expect(message_state(ada, "Sent during the outage")).to_have_text("Read")
    expect_log(grace, ["Before the outage", "Sent during the outage"])
    expect_log(ada, ["Before the outage", "Sent during the outage"])


def test_after_a_server_restart_the_page_reconnects_and_shows_what_it_missed(
    new_page: NewPage, sqlite_server: ServerProcess, aio: AsyncThread
) -> None:
    ada, grace = people(sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))
    socket = aio.socket(ada)
    started = aio.run(socket.call("start_conversation", {"user_ids": [grace.id]}))
    assert started["ok"], started
    conversation_id = started["conversation"]["id"]
    assert aio.run(socket.send(conversation_id, "Before the restart"))["ok"]
    aio.run(socket.disconnect())

    page = new_page(sqlite_server.url)
    sign_in(page, "grace")
    conversation_item(page, "Ada Lovelace").click()
    expect_log(page, ["Before the restart"])
    page.evaluate("window.__notReloaded = true")

    sqlite_server.stop()
    expect(connection_state(page)).to_have_text(re.compile(r"^(Reconnecting…|Connecting…|Disconnected)$"))
    # The network stays down for Grace's page until Ada has written, so the page surely misses these.
    page.context.set_offline(True)
    sqlite_server.start()
    missed = ["Missed one", "Missed two", "Missed three"]

    async def send_missed() -> None:
        sender = await Socket(ada).connect()
        for body in missed:
            sent = await sender.send(conversation_id, body)
            assert sent["ok"], sent
        await sender.disconnect()

    aio.run(send_missed())
    expect(connection_state(page)).not_to_have_text("Connected")
    expect(log_items(page)).to_have_count(1)

    page.context.set_offline(False)  # no reload, no click: the page reconnects by itself
    expect(connection_state(page)).to_have_text("Connected", timeout=20_000)
    expect_log(page, ["Before the restart", *missed])
    assert page.evaluate("window.__notReloaded") is True
    expect(conversation_item(page, "Ada Lovelace")).to_contain_text("Missed three")


def test_a_message_body_is_shown_as_text_never_as_html(new_page: NewPage, sqlite_server: ServerProcess) -> None:
    people(sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))
    ada, grace = new_page(sqlite_server.url), new_page(sqlite_server.url)
    sign_in(ada, "ada")
    sign_in(grace, "grace")
    open_direct(ada, "Grace Hopper")
    conversation_item(grace, "Ada Lovelace").click()
    expect(message_log(grace)).to_be_visible()

    body = '<img src=x onerror="window.__pwned=1">'
    composer(ada).fill(body)
    composer(ada).press("Enter")
    expect(message_state(ada, body)).to_have_text(re.compile(r"^(Sent|Delivered|Read)$"))
    for page in (grace, ada):
        expect_log(page, [body])
        expect(message(page, body)).to_contain_text(body)
        expect(conversations(page).get_by_role("link")).to_contain_text([body])
        assert page.evaluate("document.querySelectorAll('[role=log] img, nav img').length") == 0
        assert page.evaluate("typeof window.__pwned") == "undefined"


def test_screenshots_of_sign_in_chat_list_and_connections_at_desktop_and_phone_width(
    new_page: NewPage, sqlite_server: ServerProcess, aio: AsyncThread
) -> None:
    """Writes docs/screenshots/*.png, checking on the way the one-pane-at-a-time phone layout."""
    url = sqlite_server.url
    ada, grace, alan = people(url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"), ("alan", "Alan Turing"))
    katherine = Person(url, "katherine", display_name="Katherine Johnson").register()
    Person(url, "margaret", display_name="Margaret Hamilton").register()
    with katherine.http() as http:
        assert http.post("/api/connections", json={"username": "ada"}).status_code == 201

    a, g, t = aio.socket(ada), aio.socket(grace), aio.socket(alan)
    started = aio.run(a.call("start_conversation", {"user_ids": [grace.id]}))
    assert started["ok"], started
    chat_id = started["conversation"]["id"]
    lines = [
        (g, "Morning Ada! Did the notes on the Analytical Engine come through?"),
        (a, "They did, thank you. I added a few notes of my own."),
        (g, "Notes A to G? They are longer than the paper itself."),
        (a, "Note G has the program for the Bernoulli numbers. Have a look when you can."),
        (g, "Reading it now."),
        (a, "Tell me whether the loop in operation 13 makes sense to you."),
    ]
    for sender, body in lines:
        sent = aio.run(sender.send(chat_id, body))
        assert sent["ok"], sent
    # Grace has read up to her last message and received the one after it.
    assert aio.run(g.call("mark_as_read", {"conversation_id": chat_id, "up_to_seq": 5}))["ok"]
    assert aio.run(g.call("mark_as_delivered", {"conversation_id": chat_id, "up_to_seq": 6}))["ok"]
    other = aio.run(t.call("start_conversation", {"user_ids": [ada.id]}))["conversation"]["id"]
    assert aio.run(t.send(other, "Shall we meet at Bletchley on Thursday?"))["ok"]
    aio.run(t.disconnect())  # Alan is offline, Grace stays online

    for name, viewport, scale in (("desktop", DESKTOP, 1), ("phone", PHONE, 2)):
        page = new_page(url, viewport, scale)
        expect(page.get_by_role("button", name="Create account", exact=True)).to_be_visible()
        screenshot(page, f"{name}-signin.png")
        page.context.close()

    # Desktop: the list and the open chat side by side.
    page = new_page(url, DESKTOP)
    sign_in(page, "ada")
    items = conversations(page).get_by_role("link")
    expect(items).to_have_count(2)
    expect(items).to_contain_text(["Alan Turing", "Grace Hopper"])  # newest activity first
    expect(conversation_item(page, "Alan Turing").get_by_role("img", name="1 unread", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Accept", exact=True)).to_be_visible()
    expect(connected_person(page, "Grace Hopper").get_by_role("img", name="Online", exact=True)).to_be_visible()
    expect(connected_person(page, "Alan Turing").get_by_role("img", name="Offline", exact=True)).to_be_visible()
    conversation_item(page, "Grace Hopper").click()
    expect_log(page, [body for _, body in lines])
    expect(message_state(page, lines[1][1])).to_have_text("Read")
    expect(message_state(page, lines[5][1])).to_have_text("Delivered")
    assert aio.run(g.call("typing_start", {"conversation_id": chat_id}))["ok"]
    expect(page.get_by_text("Grace Hopper is typing", exact=True)).to_be_visible()
    expect(conversations(page)).to_be_visible()
    screenshot(page, "desktop-chat.png")
    screenshot(page.get_by_role("complementary"), "desktop-connections.png")
    page.context.close()

    # Phone: one pane at a time, with a Back button from the chat to the list.
    page = new_page(url, PHONE, 2)
    sign_in(page, "ada")
    expect(conversations(page)).to_be_visible()
    expect(message_log(page)).to_have_count(0)
    screenshot(page, "phone-list.png")
    conversation_item(page, "Grace Hopper").click()
    expect_log(page, [body for _, body in lines])
    expect(conversations(page)).to_be_hidden()
    expect(page.get_by_role("button", name="Back", exact=True)).to_be_visible()
    screenshot(page, "phone-chat.png")
    page.get_by_role("button", name="Back", exact=True).click()
    expect(page).not_to_have_url(CONVERSATION_HASH)
    expect(conversations(page)).to_be_visible()
    expect(message_log(page)).to_have_count(0)
    page.get_by_label("Add connection", exact=True).fill("mar")
    expect(page.get_by_role("button", name=re.compile("@margaret"))).to_be_visible()
    page.get_by_role("region", name="People").scroll_into_view_if_needed()
    screenshot(page, "phone-connections.png")

    # The phone layout fits the screen: nothing is pushed off to the right.
    page.get_by_label("Add connection", exact=True).fill("")
    for button in ("Sign out", "Send request", "Accept", "Decline"):
        expect(page.get_by_role("button", name=button, exact=True)).to_be_in_viewport(ratio=1)
    for button in page.get_by_role("button", name="Message", exact=True).all():
        expect(button).to_be_in_viewport(ratio=1)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide on a {width[1]} px screen"
    page.context.close()

    aio.run(a.disconnect())
    aio.run(g.disconnect())
