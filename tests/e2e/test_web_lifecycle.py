"""A message's life in the web client (contract v2 sections 5 and 6), in headless Chromium against a
real `parley serve`: two people on two pages edit, delete, reply, react and mention, and each sees the
other's changes live. Elements are found only by the contract's accessible names.
"""

import re
import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.browser import (  # noqa: F401  (browser, aio, new_page and sqlite_server are fixtures)
    DELETED,
    DESKTOP,
    PHONE,
    AsyncThread,
    aio,
    browser,
    composer,
    conversation_item,
    expect_log,
    log_items,
    menu_items,
    message,
    message_action,
    message_log,
    new_page,
    open_direct,
    people,
    react,
    reaction,
    reactions,
    screenshot,
    sign_in,
    sqlite_server,
    tombstones,
)
from tests.support.clients import Socket
from tests.support.server import ServerProcess

NewPage = Callable[..., Page]
THUMBS_UP = "\U0001f44d"
PARTY = "\U0001f389"
HEART = "\u2764\ufe0f"


def two_pages(new_page: NewPage, url: str) -> tuple[Page, Page, str]:
    """Ada and Grace, signed in on their own pages, both in their direct conversation."""
    ada, grace = new_page(url), new_page(url)
    sign_in(ada, "ada")
    sign_in(grace, "grace")
    conversation_id = open_direct(ada, "Grace Hopper")
    conversation_item(grace, "Ada Lovelace").click()
    expect(message_log(grace)).to_be_visible()
    return ada, grace, conversation_id


def send(page: Page, body: str) -> None:
    composer(page).fill(body)
    composer(page).press("Enter")
    expect(composer(page)).to_have_value("")


def test_edits_deletions_and_reactions_show_live_on_both_pages(new_page: NewPage, server: ServerProcess) -> None:
    people(server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))
    ada, grace, _ = two_pages(new_page, server.url)
    send(ada, "Lunch at noon?")
    send(grace, "Noon works")
    for page in (ada, grace):
        expect_log(page, ["Lunch at noon?", "Noon works"])

    # Each sees the actions allowed to them: Edit and Delete on their own messages only.
    assert menu_items(ada, "Lunch at noon?") == ["Reply", "Edit", "Delete", "React"]
    assert menu_items(grace, "Lunch at noon?") == ["Reply", "React"]

    # Ada edits hers in the message field: both see the new text, marked edited.
    message_action(ada, "Lunch at noon?", "Edit")
    expect(composer(ada)).to_have_value("Lunch at noon?")
    composer(ada).fill("Lunch at one?")
    composer(ada).press("Enter")
    for page in (ada, grace):
        expect_log(page, ["Lunch at one?", "Noon works"])
        expect(message(page, "Lunch at one?").get_by_text("edited", exact=True)).to_be_visible()
        expect(message(page, "Noon works").get_by_text("edited", exact=True)).to_have_count(0)
    expect(composer(ada)).to_have_value("")
    expect(conversation_item(grace, "Ada Lovelace")).to_contain_text("Noon works")

    # The edited mark shows every version, the original first (get_message_edits).
    message(grace, "Lunch at one?").get_by_role("button", name="edited", exact=True).click()
    history = grace.get_by_role("dialog", name="Edit history", exact=True)
    expect(history.get_by_role("listitem")).to_have_count(2)
    expect(history.get_by_role("listitem")).to_contain_text(["Lunch at noon?", "Lunch at one?"])
    grace.keyboard.press("Escape")
    expect(history).to_have_count(0)

    # Grace reacts: a chip `<emoji> <count>` on both pages, pressed only for her.
    react(grace, "Lunch at one?", THUMBS_UP)
    expect(reaction(grace, "Lunch at one?", THUMBS_UP, 1)).to_have_attribute("aria-pressed", "true")
    expect(reaction(ada, "Lunch at one?", THUMBS_UP, 1)).to_have_attribute("aria-pressed", "false")

    # Ada adds hers by clicking the chip; a second emoji follows the first.
    reaction(ada, "Lunch at one?", THUMBS_UP, 1).click()
    expect(reaction(ada, "Lunch at one?", THUMBS_UP, 2)).to_have_attribute("aria-pressed", "true")
    expect(reaction(grace, "Lunch at one?", THUMBS_UP, 2)).to_have_attribute("aria-pressed", "true")
    react(ada, "Lunch at one?", PARTY)
    for page in (ada, grace):
        expect(reactions(page, "Lunch at one?")).to_have_text([f"{THUMBS_UP} 2", f"{PARTY} 1"])

    # Clicking one's own chip takes the reaction back; an emoji nobody keeps disappears.
    reaction(grace, "Lunch at one?", THUMBS_UP, 2).click()
    reaction(ada, "Lunch at one?", PARTY, 1).click()
    for page in (ada, grace):
        expect(reactions(page, "Lunch at one?")).to_have_text([f"{THUMBS_UP} 1"])
    expect(reaction(grace, "Lunch at one?", THUMBS_UP, 1)).to_have_attribute("aria-pressed", "false")

    # Ada deletes it for everyone: a tombstone, without actions or reactions, on both pages.
    message_action(ada, "Lunch at one?", "Delete")
    for page in (ada, grace):
        expect(tombstones(page)).to_have_count(1)
        expect(log_items(page)).to_have_count(2)
        expect(message(page, "Lunch at one?")).to_have_count(0)
        expect(tombstones(page).get_by_role("button")).to_have_count(0)
        expect(log_items(page).nth(0)).to_contain_text(DELETED)
    expect(message(grace, "Noon works").get_by_role("button", name="More actions")).to_be_visible()

    # After a reload the server's state is shown the same way.
    grace.reload()
    expect_log(grace, [DELETED, "Noon works"])
    expect(tombstones(grace)).to_have_count(1)


def test_a_reply_quotes_its_original_and_leads_back_to_it(
    new_page: NewPage, sqlite_server: ServerProcess, aio: AsyncThread
) -> None:
    ada, grace = people(sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))
    socket = aio.socket(ada)
    started = aio.run(socket.call("start_conversation", {"user_ids": [grace.id]}))
    assert started["ok"], started
    conversation_id = started["conversation"]["id"]
    original = aio.run(socket.send(conversation_id, "Where did we leave the Difference Engine plans?"))
    assert original["ok"], original
    # More than a page of messages (the client loads 50) lies between the original and its reply.
    for n in range(60):
        assert aio.run(socket.send(conversation_id, f"Filler {n}"))["ok"]
    answer = aio.run(
        socket.call(
            "send_message",
            {
                "conversation_id": conversation_id,
                "client_message_id": str(uuid.uuid4()),
                "body": "About my first message",
                "reply_to": original["message"]["id"],
            },
        )
    )
    assert answer["ok"], answer
    aio.run(socket.disconnect())

    page = new_page(sqlite_server.url)
    sign_in(page, "grace")
    conversation_item(page, "Ada Lovelace").click()
    quote = message(page, "About my first message").get_by_label("Reply to Ada Lovelace", exact=True)
    expect(quote).to_contain_text("Where did we leave the Difference Engine plans?")
    # The original is not loaded yet; clicking the quote fetches older pages and shows it.
    expect(message(page, "Where did we leave the Difference Engine plans?")).to_have_count(0)
    quote.click()
    original_item = message(page, "Where did we leave the Difference Engine plans?")
    expect(original_item).to_be_in_viewport()
    expect(message(page, "About my first message")).not_to_be_in_viewport()

    # Grace answers a message from the menu: the composer says to whom, the quote travels with it.
    message_action(page, "Filler 59", "Reply")
    expect(page.get_by_text("Replying to Ada Lovelace", exact=True)).to_be_visible()
    send(page, "Filler indeed")
    expect(page.get_by_text("Replying to Ada Lovelace", exact=True)).to_have_count(0)
    mine = message(page, "Filler indeed")
    expect(mine.get_by_label("Reply to Ada Lovelace", exact=True)).to_contain_text("Filler 59")
    expect(mine.get_by_text(re.compile(r"^(Sent|Delivered|Read)$"))).to_be_visible()

    # Ada (another page) sees the reply with its quote; when she deletes the original, the quote says so.
    ada_page = new_page(sqlite_server.url)
    sign_in(ada_page, "ada")
    conversation_item(ada_page, "Grace Hopper").click()
    theirs = message(ada_page, "Filler indeed")
    expect(theirs.get_by_label("Reply to Ada Lovelace", exact=True)).to_contain_text("Filler 59")
    message_action(ada_page, "Filler 59", "Delete")
    expect(theirs.get_by_label("Reply to Ada Lovelace", exact=True)).not_to_contain_text("Filler 59")
    expect(message(ada_page, "Filler indeed")).to_have_count(1)


def test_mentions_are_offered_while_typing_counted_in_the_list_and_highlighted(
    new_page: NewPage, sqlite_server: ServerProcess
) -> None:
    people(sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"), ("alan", "Alan Turing"))
    ada, grace = new_page(sqlite_server.url), new_page(sqlite_server.url)
    sign_in(ada, "ada")
    sign_in(grace, "grace")
    open_direct(ada, "Grace Hopper")
    expect(conversation_item(grace, "Ada Lovelace")).to_be_visible()

    # Typing `@gr` offers Grace (a member); Enter puts her username in.
    composer(ada).press_sequentially("Could @gr")
    options = ada.get_by_role("listbox", name="Mention someone").get_by_role("option")
    expect(options).to_have_text(["@grace Grace Hopper"])
    composer(ada).press("Enter")
    expect(composer(ada)).to_have_value("Could @grace ")
    expect(ada.get_by_role("listbox")).to_have_count(0)
    composer(ada).press_sequentially("check note G?")
    composer(ada).press("Enter")
    expect(composer(ada)).to_have_value("")

    # Grace, with the conversation closed, sees 1 unread and 1 mentions in her list.
    item = conversation_item(grace, "Ada Lovelace")
    expect(item.get_by_role("img", name="1 mentions", exact=True)).to_be_visible()
    expect(item.get_by_role("img", name="1 unread", exact=True)).to_be_visible()
    send(ada, "No rush")
    expect(item.get_by_role("img", name="2 unread", exact=True)).to_be_visible()
    expect(item.get_by_role("img", name="1 mentions", exact=True)).to_be_visible()

    # She opens it: the mention of her is highlighted, and both counts go.
    item.click()
    expect_log(grace, ["Could @grace check note G?", "No rush"])
    highlighted = message(grace, "Could @grace check note G?").locator("mark")
    expect(highlighted).to_have_text("@grace")
    expect(message(ada, "Could @grace check note G?").locator("mark")).to_have_count(0)
    expect(item.get_by_role("img", name=re.compile(r"mentions$"))).to_have_count(0)
    expect(item.get_by_role("img", name=re.compile(r"unread$"))).to_have_count(0)

    # Escape closes the suggestions; text after them is sent as typed.
    composer(grace).press_sequentially("@a")
    expect(grace.get_by_role("listbox", name="Mention someone").get_by_role("option")).to_have_text(
        ["@ada Ada Lovelace"]
    )
    composer(grace).press("Escape")
    expect(grace.get_by_role("listbox")).to_have_count(0)


def test_a_refused_change_is_taken_back(new_page: NewPage, sqlite_server: ServerProcess) -> None:
    _, grace_person = people(sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))
    ada, grace, _ = two_pages(new_page, sqlite_server.url)
    send(ada, "Still friends?")
    send(grace, "Of course")
    expect_log(ada, ["Still friends?", "Of course"])
    react(ada, "Of course", HEART)
    expect(reaction(grace, "Of course", HEART, 1)).to_be_visible()

    # Grace removes the connection: in their direct conversation edits and reactions are refused.
    with grace_person.http() as http:
        connection = http.get("/api/connections").json()["connections"][0]
        assert http.delete(f"/api/connections/{connection['id']}").status_code == 200

    message_action(ada, "Still friends?", "Edit")
    composer(ada).fill("Still friends, surely?")
    composer(ada).press("Enter")
    # The edit is refused: the message shows its text again, unedited, and Ada is told why.
    expect(message(ada, "Still friends?")).to_have_count(1)
    expect(message(ada, "Still friends, surely?")).to_have_count(0)
    expect(message(ada, "Still friends?").get_by_text("edited", exact=True)).to_have_count(0)
    notice = ada.get_by_role("status").filter(has=ada.get_by_role("button", name="Dismiss", exact=True))
    expect(notice).to_contain_text(re.compile(r"\w"))
    notice.get_by_role("button", name="Dismiss", exact=True).click()

    # Reacting is refused too: the new chip goes again, and the one already there stays pressed.
    react(ada, "Of course", PARTY)
    expect(notice).to_be_visible()
    expect(reaction(ada, "Of course", PARTY, 1)).to_have_count(0)
    expect(reactions(ada, "Of course")).to_have_text([f"{HEART} 1"])
    expect(reaction(ada, "Of course", HEART, 1)).to_have_attribute("aria-pressed", "true")
    expect(reactions(grace, "Of course")).to_have_text([f"{HEART} 1"])

    # Deleting still works in a conversation no longer connected (contract section 6).
    message_action(ada, "Still friends?", "Delete")
    for page in (ada, grace):
        expect(tombstones(page)).to_have_count(1)


def test_screenshots_of_message_actions_reactions_replies_and_mentions(
    new_page: NewPage, sqlite_server: ServerProcess, aio: AsyncThread
) -> None:
    """Writes docs/screenshots/desktop-lifecycle.png, desktop-actions.png and phone-lifecycle.png."""
    ada, grace, alan = people(
        sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"), ("alan", "Alan Turing")
    )
    a, g, t = aio.socket(ada), aio.socket(grace), aio.socket(alan)
    started = aio.run(a.call("start_conversation", {"user_ids": [grace.id, alan.id], "title": "Analytical Engine"}))
    assert started["ok"], started
    chat = started["conversation"]["id"]

    def say(sender: Socket, body: str, reply_to: str | None = None) -> dict[str, Any]:
        payload = {"conversation_id": chat, "client_message_id": str(uuid.uuid4()), "body": body}
        sent = aio.run(sender.call("send_message", {**payload, "reply_to": reply_to} if reply_to else payload))
        assert sent["ok"], sent
        message: dict[str, Any] = sent["message"]
        return message

    def call(sender: Socket, event: str, **payload: Any) -> None:
        done = aio.run(sender.call(event, {"conversation_id": chat, **payload}))
        assert done["ok"], done

    question = say(a, "Has anyone checked the loop in operation 13?")
    say(t, "Not yet, I am still on note F")
    draft = say(g, "I think the variable cards are swapped")
    call(g, "edit_message", message_id=draft["id"], body="I think two variable cards are swapped")
    say(g, "It reads V4 where it means V5", reply_to=question["id"])
    oops = say(t, "Ignore the next line, wrong chat")
    call(t, "delete_message", message_id=oops["id"])
    thanks = say(a, "Well spotted @grace, and @alan please have a look too")
    for sender, emoji in ((g, THUMBS_UP), (t, THUMBS_UP), (t, HEART)):
        call(sender, "react", message_id=thanks["id"], emoji=emoji, add=True)
    for s in (a, g, t):
        aio.run(s.disconnect())

    page = new_page(sqlite_server.url, DESKTOP)
    sign_in(page, "grace")
    item = conversation_item(page, "Analytical Engine")
    expect(item.get_by_role("img", name="1 mentions", exact=True)).to_be_visible()
    item.click()
    expect(message(page, "Well spotted @grace, and @alan please have a look too").locator("mark")).to_have_text(
        "@grace"
    )
    expect(reaction(page, "Well spotted @grace, and @alan please have a look too", THUMBS_UP, 2)).to_be_visible()
    expect(tombstones(page)).to_have_count(1)
    expect(message(page, "I think two variable cards are swapped").get_by_text("edited", exact=True)).to_be_visible()
    expect(
        message(page, "It reads V4 where it means V5").get_by_label("Reply to Ada Lovelace", exact=True)
    ).to_contain_text("Has anyone checked the loop in operation 13?")
    composer(page).press_sequentially("Thanks @")
    expect(page.get_by_role("listbox", name="Mention someone").get_by_role("option")).to_have_count(3)
    screenshot(page, "desktop-lifecycle.png")

    composer(page).fill("")
    message(page, "Not yet, I am still on note F").get_by_role("button", name="More actions").click()
    expect(page.get_by_role("menu").get_by_role("menuitem")).to_have_text(["Reply", "React"])
    screenshot(page, "desktop-actions.png")
    page.context.close()

    phone = new_page(sqlite_server.url, PHONE, 2)
    sign_in(phone, "alan")
    conversation_item(phone, "Analytical Engine").click()
    expect(reaction(phone, "Well spotted @grace, and @alan please have a look too", HEART, 1)).to_be_visible()
    react(phone, "It reads V4 where it means V5", PARTY)
    expect(reaction(phone, "It reads V4 where it means V5", PARTY, 1)).to_have_attribute("aria-pressed", "true")
    width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide on a {width[1]} px screen"
    screenshot(phone, "phone-lifecycle.png")


def test_in_a_group_all_mentions_every_other_member_and_members_act_on_their_own_messages_only(
    new_page: NewPage, sqlite_server: ServerProcess, aio: AsyncThread
) -> None:
    ada, grace, alan = people(
        sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"), ("alan", "Alan Turing")
    )
    a, t = aio.socket(ada), aio.socket(alan)
    started = aio.run(a.call("start_conversation", {"user_ids": [grace.id, alan.id], "title": "Bletchley"}))
    assert started["ok"], started
    group = started["conversation"]["id"]
    assert aio.run(t.send(group, "@all meeting at three"))["ok"]

    ada_page, grace_page = new_page(sqlite_server.url), new_page(sqlite_server.url)
    sign_in(ada_page, "ada")
    sign_in(grace_page, "grace")
    item = conversation_item(grace_page, "Bletchley")
    expect(item.get_by_role("img", name="1 mentions", exact=True)).to_be_visible()
    item.click()
    expect(message(grace_page, "@all meeting at three").locator("mark")).to_have_text("@all")
    expect(item.get_by_role("img", name=re.compile(r"mentions$"))).to_have_count(0)
    send(grace_page, "I may be late")
    conversation_item(ada_page, "Bletchley").click()
    expect_log(ada_page, ["@all meeting at three", "I may be late"])
    expect(message(ada_page, "@all meeting at three").locator("mark")).to_have_text("@all")

    # Members act on others' messages by replying and reacting only.
    assert menu_items(grace_page, "@all meeting at three") == ["Reply", "React"]
    assert menu_items(grace_page, "I may be late") == ["Reply", "Edit", "Delete", "React"]
    react(ada_page, "I may be late", HEART)
    expect(reaction(grace_page, "I may be late", HEART, 1)).to_have_attribute("aria-pressed", "false")
    message_action(grace_page, "I may be late", "Delete")
    for page in (ada_page, grace_page):
        expect(tombstones(page)).to_have_count(1)
        expect(message(page, "I may be late")).to_have_count(0)
        expect(tombstones(page).get_by_role("button")).to_have_count(0)
    aio.run(a.disconnect())
    aio.run(t.disconnect())
