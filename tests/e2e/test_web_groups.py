"""Groups, mutes and blocks in the web client (contract v2 sections 5, 7 and 8), in headless Chromium
against a real `parley serve`: an owner manages a group while a member watches on a second page, a
muted conversation stays out of the page title's total, and a blocked user is listed on the Settings
page until unblocked. Elements are found only by the contract's accessible names.
"""

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import (  # noqa: F401  (browser, aio, new_page and sqlite_server are fixtures)
    PHONE,
    AsyncThread,
    aio,
    browser,
    composer,
    connected_person,
    conversation_item,
    expect_log,
    group_member,
    message,
    message_log,
    new_page,
    open_direct,
    open_group_settings,
    open_settings,
    people,
    screenshot,
    sign_in,
    sqlite_server,
    system_notice,
)
from tests.support.clients import Person
from tests.support.server import ServerProcess

NewPage = Callable[..., Page]


def send(page: Page, body: str) -> None:
    composer(page).fill(body)
    composer(page).press("Enter")
    expect(composer(page)).to_have_value("")


def start_group(aio: AsyncThread, owner: Person, members: list[Person], title: str) -> str:
    socket = aio.socket(owner)
    started = aio.run(socket.call("start_conversation", {"user_ids": [m.id for m in members], "title": title}))
    assert started["ok"], started
    aio.run(socket.disconnect())
    conversation_id: str = started["conversation"]["id"]
    return conversation_id


def open_group(page: Page, title: str) -> None:
    conversation_item(page, title).click()
    expect(message_log(page)).to_be_visible()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()


def test_an_owner_manages_a_group_and_members_see_each_change_live(
    new_page: NewPage, server: ServerProcess, aio: AsyncThread
) -> None:
    ada, grace, alan, charles = people(
        server.url,
        ("ada", "Ada Lovelace"),
        ("grace", "Grace Hopper"),
        ("alan", "Alan Turing"),
        ("charles", "Charles Babbage"),
    )
    start_group(aio, ada, [grace, alan], "Analytical Engine")
    owner, member = new_page(server.url), new_page(server.url)
    sign_in(owner, "ada")
    sign_in(member, "grace")
    open_group(owner, "Analytical Engine")
    open_group(member, "Analytical Engine")

    # A member may only leave: no Rename, Add members, Remove or Make admin.
    dialog = open_group_settings(member)
    expect(dialog.get_by_role("button", name="Leave group", exact=True)).to_be_visible()
    for name in ("Rename", "Add members", "Remove", "Make admin"):
        expect(dialog.get_by_role("button", name=name, exact=True)).to_have_count(0)
    member.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # The owner adds a connection who is not a member yet (only those are offered).
    dialog = open_group_settings(owner)
    expect(dialog.get_by_role("checkbox")).to_have_count(1)
    dialog.get_by_role("checkbox", name="Charles Babbage").check()
    dialog.get_by_role("button", name="Add members", exact=True).click()
    expect(group_member(dialog, "Charles Babbage")).to_be_visible()
    expect(dialog.get_by_role("checkbox")).to_have_count(0)
    for page in (owner, member):
        expect(system_notice(page, "Ada Lovelace added Charles Babbage")).to_be_visible()

    # Rename: both see the notice, the new title in the header and in the list.
    dialog.get_by_label("Group name", exact=True).fill("Difference Engine")
    dialog.get_by_role("button", name="Rename", exact=True).click()
    for page in (owner, member):
        expect(system_notice(page, "Ada Lovelace renamed the group to “Difference Engine”")).to_be_visible()
        expect(conversation_item(page, "Difference Engine")).to_be_visible()
        expect(page.get_by_role("heading", name="Difference Engine", exact=True)).to_be_visible()

    # The owner sees Remove and Make admin next to each member, nothing next to themself.
    expect(group_member(dialog, "Ada Lovelace").get_by_role("button")).to_have_count(0)
    expect(group_member(dialog, "Grace Hopper").get_by_role("button")).to_have_text(["Make admin", "Remove"])
    group_member(dialog, "Grace Hopper").get_by_role("button", name="Make admin", exact=True).click()
    for page in (owner, member):
        expect(system_notice(page, "Ada Lovelace made Grace Hopper an admin")).to_be_visible()

    # Grace, now an admin, may rename and add, and remove members, but not the owner.
    dialog_of_admin = open_group_settings(member)
    expect(dialog_of_admin.get_by_role("button", name="Rename", exact=True)).to_be_visible()
    expect(dialog_of_admin.get_by_role("button", name="Add members", exact=True)).to_be_visible()
    expect(group_member(dialog_of_admin, "Ada Lovelace").get_by_role("button")).to_have_count(0)
    expect(group_member(dialog_of_admin, "Alan Turing").get_by_role("button")).to_have_text(["Remove"])
    member.keyboard.press("Escape")

    # The owner removes Alan: he leaves the member list and both logs say so.
    group_member(dialog, "Alan Turing").get_by_role("button", name="Remove", exact=True).click()
    expect(group_member(dialog, "Alan Turing")).to_have_count(0)
    for page in (owner, member):
        expect(system_notice(page, "Ada Lovelace removed Alan Turing")).to_be_visible()
    screenshot(dialog, "desktop-group-settings.png")
    owner.keyboard.press("Escape")

    # Messages and notices share the log, in seq order, on both pages.
    send(member, "Glad to have you, Charles")
    expected = [
        "Ada Lovelace added Charles Babbage",
        "Ada Lovelace renamed the group to “Difference Engine”",
        "Ada Lovelace made Grace Hopper an admin",
        "Ada Lovelace removed Alan Turing",
        "Glad to have you, Charles",
    ]
    for page in (owner, member):
        expect_log(page, expected)
    screenshot(owner, "desktop-group.png")

    # Grace leaves: her page keeps the history, read-only, and the owner sees that she left.
    dialog_of_admin = open_group_settings(member)
    dialog_of_admin.get_by_role("button", name="Leave group", exact=True).click()
    expect(dialog_of_admin).to_have_count(0)
    expect(system_notice(owner, "Grace Hopper left")).to_be_visible()
    expect(composer(member)).to_have_count(0)
    expect(member.get_by_text("You are no longer a member of this group", exact=False)).to_be_visible()
    expect(member.get_by_role("button", name="Group settings", exact=True)).to_have_count(0)
    expect(message(member, "Glad to have you, Charles").get_by_role("button", name="More actions")).to_have_count(0)
    send(owner, "Only the three of us now")
    expect(message(owner, "Only the three of us now")).to_be_visible()

    # After a reload the departed group is still listed, as it was, and still read-only.
    member.reload()
    open_group(member, "Difference Engine")
    expect_log(member, [*expected, "Grace Hopper left"])
    expect(composer(member)).to_have_count(0)
    expect(message(member, "Only the three of us now")).to_have_count(0)

    # Charles, added later, sees the group from the message that added him.
    newcomer = new_page(server.url)
    sign_in(newcomer, "charles")
    open_group(newcomer, "Difference Engine")
    expect(message(newcomer, "Only the three of us now")).to_be_visible()
    expect(first_entry(newcomer)).to_have_text("Ada Lovelace added Charles Babbage")


def first_entry(page: Page) -> Locator:
    return message_log(page).get_by_role("listitem").first


def test_a_removed_member_sees_the_group_turn_read_only_and_ownership_passes_when_the_owner_leaves(
    new_page: NewPage, sqlite_server: ServerProcess, aio: AsyncThread
) -> None:
    ada, grace, alan = people(
        sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"), ("alan", "Alan Turing")
    )
    start_group(aio, ada, [grace, alan], "Analytical Engine")
    owner, heir, removed = new_page(sqlite_server.url), new_page(sqlite_server.url), new_page(sqlite_server.url)
    for page, name in ((owner, "ada"), (heir, "grace"), (removed, "alan")):
        sign_in(page, name)
        open_group(page, "Analytical Engine")
    send(removed, "Before I go")

    # Removed while looking at it: the message field and the actions go at once, the history stays.
    dialog = open_group_settings(owner)
    group_member(dialog, "Alan Turing").get_by_role("button", name="Remove", exact=True).click()
    expect(system_notice(removed, "Ada Lovelace removed Alan Turing")).to_be_visible()
    expect(composer(removed)).to_have_count(0)
    expect(removed.get_by_role("button", name="Group settings", exact=True)).to_have_count(0)
    expect(message(removed, "Before I go")).to_be_visible()
    expect(message(removed, "Before I go").get_by_role("button", name="More actions")).to_have_count(0)
    owner.keyboard.press("Escape")

    # The owner leaves: the longest-standing member becomes the owner, and is offered what owners are.
    dialog = open_group_settings(heir)
    expect(dialog.get_by_role("button", name="Rename", exact=True)).to_have_count(0)
    heir.keyboard.press("Escape")
    dialog = open_group_settings(owner)
    dialog.get_by_role("button", name="Leave group", exact=True).click()
    expect(system_notice(heir, "Ada Lovelace left")).to_be_visible()
    expect(system_notice(heir, "Grace Hopper is now the owner")).to_be_visible()
    expect(composer(owner)).to_have_count(0)
    # Alan no longer sees what happens there
    expect(system_notice(removed, "Ada Lovelace left")).to_have_count(0)
    dialog = open_group_settings(heir)
    expect(dialog.get_by_role("button", name="Rename", exact=True)).to_be_visible()
    expect(group_member(dialog, "Grace Hopper").get_by_text("Owner", exact=False)).to_be_visible()
    expect(dialog.get_by_role("list", name="Members", exact=True).get_by_role("listitem")).to_have_count(1)


def test_a_muted_conversation_stays_out_of_the_total_unread_in_the_page_title(
    new_page: NewPage, sqlite_server: ServerProcess, aio: AsyncThread
) -> None:
    grace, ada, alan = people(
        sqlite_server.url, ("grace", "Grace Hopper"), ("ada", "Ada Lovelace"), ("alan", "Alan Turing")
    )
    a, t = aio.socket(ada), aio.socket(alan)
    with_ada = aio.run(a.call("start_conversation", {"user_ids": [grace.id]}))["conversation"]["id"]
    with_alan = aio.run(t.call("start_conversation", {"user_ids": [grace.id]}))["conversation"]["id"]
    assert aio.run(a.send(with_ada, "Are you there?"))["ok"]

    page = new_page(sqlite_server.url)
    sign_in(page, "grace")
    expect(page).to_have_title("(1) Parley")
    ada_item = conversation_item(page, "Ada Lovelace")
    expect(ada_item.get_by_role("img", name="1 unread", exact=True)).to_be_visible()

    # Reading it empties the total; Mute turns into Unmute and the list shows the muted look.
    ada_item.click()
    expect(page).to_have_title("Parley")
    page.get_by_role("button", name="Mute", exact=True).click()
    expect(page.get_by_role("button", name="Unmute", exact=True)).to_be_visible()
    expect(ada_item.get_by_role("img", name="Muted", exact=True)).to_be_visible()

    # Away from it, her messages are counted in the list but not in the title; Alan's are.
    open_settings(page)
    for n in (1, 2):
        assert aio.run(a.send(with_ada, f"Muted news {n}"))["ok"]
    expect(ada_item.get_by_role("img", name="2 unread", exact=True)).to_be_visible()
    expect(page).to_have_title("Parley")
    assert aio.run(t.send(with_alan, "Unmuted news"))["ok"]
    expect(page).to_have_title("(1) Parley")
    screenshot(page.get_by_role("navigation", name="Conversations", exact=True), "desktop-muted.png")

    # After a reload the server's totals agree (GET /api/unread leaves muted conversations out).
    page.reload()
    expect(page).to_have_title("(1) Parley")
    expect(ada_item.get_by_role("img", name="Muted", exact=True)).to_be_visible()

    # Unmute: the header says Mute again and the list drops the muted look.
    ada_item.click()
    page.get_by_role("button", name="Unmute", exact=True).click()
    expect(page.get_by_role("button", name="Mute", exact=True)).to_be_visible()
    expect(ada_item.get_by_role("img", name="Muted", exact=True)).to_have_count(0)
    conversation_item(page, "Alan Turing").click()
    expect(page).to_have_title("Parley")
    for s in (a, t):
        aio.run(s.disconnect())


def test_a_blocked_user_leaves_the_connections_and_is_listed_in_settings_until_unblocked(
    new_page: NewPage, sqlite_server: ServerProcess
) -> None:
    people(sqlite_server.url, ("grace", "Grace Hopper"), ("ada", "Ada Lovelace"), ("alan", "Alan Turing"))
    grace, ada = new_page(sqlite_server.url), new_page(sqlite_server.url)
    sign_in(grace, "grace")
    sign_in(ada, "ada")
    expect(connected_person(ada, "Grace Hopper")).to_be_visible()

    connected_person(grace, "Ada Lovelace").get_by_role("button", name="Block", exact=True).click()
    expect(connected_person(grace, "Ada Lovelace")).to_have_count(0)
    expect(connected_person(grace, "Alan Turing")).to_be_visible()
    # the connection ends for Ada too, live
    expect(connected_person(ada, "Grace Hopper")).to_have_count(0)

    blocked = open_settings(grace)
    expect(blocked.get_by_role("listitem")).to_have_count(1)
    expect(blocked.get_by_role("listitem").filter(has_text="Ada Lovelace")).to_be_visible()
    screenshot(grace, "desktop-settings.png")

    # While blocked, Ada's request is refused as if Grace did not exist.
    ada.get_by_label("Add connection", exact=True).fill("grace")
    ada.get_by_role("button", name="Send request", exact=True).click()
    expect(ada.get_by_role("alert")).to_be_visible()

    blocked.get_by_role("listitem").filter(has_text="Ada Lovelace").get_by_role("button", name="Unblock").click()
    expect(blocked.get_by_role("listitem")).to_have_count(0)
    expect(grace.get_by_text("You have not blocked anyone.", exact=True)).to_be_visible()

    # Unblocking restores no connection, but a new request now gets through.
    expect(connected_person(grace, "Ada Lovelace")).to_have_count(0)
    ada.get_by_label("Add connection", exact=True).fill("grace")
    ada.get_by_role("button", name="Send request", exact=True).click()
    request = grace.get_by_role("list", name="Requests to you").get_by_role("listitem").filter(has_text="Ada Lovelace")
    expect(request.get_by_role("button", name="Accept", exact=True)).to_be_visible()


def test_group_settings_fit_a_phone(new_page: NewPage, sqlite_server: ServerProcess, aio: AsyncThread) -> None:
    ada, grace, alan = people(
        sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"), ("alan", "Alan Turing")
    )
    start_group(aio, ada, [grace, alan], "Analytical Engine")
    phone = new_page(sqlite_server.url, PHONE, 2)
    sign_in(phone, "ada")
    open_group(phone, "Analytical Engine")
    dialog = open_group_settings(phone)
    expect(group_member(dialog, "Grace Hopper").get_by_role("button", name="Remove", exact=True)).to_be_in_viewport()
    width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide on a {width[1]} px screen"
    screenshot(phone, "phone-group-settings.png")
