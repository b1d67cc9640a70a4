"""Files and search in the web client (contract v2 sections 5, 9 and 10), in headless Chromium against
a real `parley serve`: files attached with the `Attach file` button, dropped on the conversation or
pasted, their upload progress, images inline that open full size, other files as links named by
their filename, and a `Search messages` field whose `Search results` highlight the matches and lead
to the message in its conversation. Elements are found only by the contract's accessible names.
"""

import base64
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.browser import (  # noqa: F401  (browser, aio, new_page and sqlite_server are fixtures)
    DESKTOP,
    PHONE,
    AsyncThread,
    aio,
    attach_files,
    browser,
    composer,
    conversation_item,
    file_link,
    image_loaded,
    inline_image,
    log_items,
    message,
    message_log,
    new_page,
    open_direct,
    people,
    png,
    remove_upload,
    screenshot,
    search_field,
    search_results,
    send_button,
    sign_in,
    sqlite_server,
    upload_progress,
    with_attachment,
)
from tests.support.clients import Socket
from tests.support.server import ServerProcess

NewPage = Callable[..., Page]
PASTED = re.compile(r"^pasted-image-\d{8}-\d{6}\.png$")

# Builds a DataTransfer holding one file (for a drop or a paste), from base64 bytes.
DATA_TRANSFER = """([name, b64, type]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], name, { type }));
    return data;
}"""


def two_pages(new_page: NewPage, url: str) -> tuple[Page, Page]:
    """Ada and Grace, signed in on their own pages, both in their direct conversation."""
    ada, grace = new_page(url), new_page(url)
    sign_in(ada, "ada")
    sign_in(grace, "grace")
    open_direct(ada, "Grace Hopper")
    conversation_item(grace, "Ada Lovelace").click()
    expect(message_log(grace)).to_be_visible()
    return ada, grace


def slow_uploads(page: Page, bytes_per_second: int) -> None:
    """Throttles the page's uploads (Chromium's network emulation), so an upload takes a while."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )


def test_files_picked_upload_with_progress_and_show_inline_or_as_links_on_both_pages(
    new_page: NewPage, sqlite_server: ServerProcess, tmp_path: Path
) -> None:
    people(sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))
    ada, grace = two_pages(new_page, sqlite_server.url)
    image = tmp_path / "engine.png"
    image.write_bytes(png(640, 400, seed=40))
    notes = tmp_path / "notes on the engine.pdf"
    notes_bytes = b"%PDF-1.4\n% Notes on the Analytical Engine\n" + os.urandom(2000) + b"\n%%EOF\n"
    notes.write_bytes(notes_bytes)
    big = tmp_path / "card deck.bin"
    big.write_bytes(os.urandom(900_000))

    # A slow upload shows its progress, and the message cannot go until it is done.
    slow_uploads(ada, 200_000)
    attach_files(ada, big)
    expect(upload_progress(ada, "card deck.bin")).to_be_visible()
    # The bar follows the bytes sent: part of the file, not none and not all.
    expect(upload_progress(ada, "card deck.bin")).to_have_attribute("value", re.compile(r"^([1-9]|[1-9]\d)$"))
    composer(ada).fill("Plans attached")
    expect(send_button(ada)).to_be_disabled()
    # Removing it takes it off the message.
    remove_upload(ada, "card deck.bin").click()
    expect(upload_progress(ada, "card deck.bin")).to_have_count(0)
    expect(remove_upload(ada, "card deck.bin")).to_have_count(0)
    expect(send_button(ada)).to_be_enabled()
    slow_uploads(ada, -1)

    attach_files(ada, image, notes)
    expect(remove_upload(ada, "engine.png")).to_be_visible()
    expect(remove_upload(ada, "notes on the engine.pdf")).to_be_visible()
    expect(ada.get_by_role("progressbar")).to_have_count(0, timeout=20_000)
    send_button(ada).click()
    expect(composer(ada)).to_have_value("")
    expect(remove_upload(ada, "engine.png")).to_have_count(0)

    for page in (ada, grace):
        sent = message(page, "Plans attached")
        expect(sent).to_have_count(1)
        expect(inline_image(sent, "engine.png")).to_be_visible()
        expect(file_link(sent, "notes on the engine.pdf")).to_be_visible()
        # The thumbnail is served and is an image (the signed URL works without a header).
        expect(inline_image(sent, "engine.png")).to_have_js_property("complete", True)
        assert image_loaded(inline_image(sent, "engine.png"))
    expect(message(ada, "Plans attached").get_by_text(re.compile(r"^(Sent|Delivered|Read)$"))).to_be_visible()

    # Grace opens the image full size: a dialog named by the filename with the image at its own size.
    file_link(message(grace, "Plans attached"), "engine.png").click()
    viewer = grace.get_by_role("dialog", name="engine.png", exact=True)
    full = inline_image(viewer, "engine.png")
    expect(full).to_be_visible()
    expect(full).to_have_js_property("naturalWidth", 640)
    expect(full).to_have_js_property("naturalHeight", 400)
    screenshot(grace, "desktop-image-viewer.png")
    grace.keyboard.press("Escape")
    expect(viewer).to_have_count(0)

    # The file's link gives back exactly the bytes uploaded, as a download.
    href = file_link(message(grace, "Plans attached"), "notes on the engine.pdf").get_attribute("href")
    assert href
    response = grace.request.get(sqlite_server.url + href if href.startswith("/") else href)
    assert response.status == 200
    assert response.body() == notes_bytes
    assert response.headers["content-disposition"].startswith("attachment")

    # After a reload, the server's copy shows the same.
    grace.reload()
    expect(inline_image(message(grace, "Plans attached"), "engine.png")).to_be_visible()
    expect(file_link(message(grace, "Plans attached"), "notes on the engine.pdf")).to_be_visible()


def test_files_dropped_on_the_conversation_or_pasted_go_without_text(
    new_page: NewPage, sqlite_server: ServerProcess
) -> None:
    people(sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))
    ada, grace = two_pages(new_page, sqlite_server.url)

    # A file dropped on the conversation is attached to the next message.
    dropped = ada.evaluate_handle(
        DATA_TRANSFER, ["gears.png", base64.b64encode(png(300, 200, 7)).decode(), "image/png"]
    )
    message_log(ada).dispatch_event("dragenter", {"dataTransfer": dropped})
    message_log(ada).dispatch_event("dragover", {"dataTransfer": dropped})
    message_log(ada).dispatch_event("drop", {"dataTransfer": dropped})
    expect(remove_upload(ada, "gears.png")).to_be_visible()

    # An image pasted into the message field (a screenshot) is attached under a name of its own.
    composer(ada).evaluate(
        """(field, args) => {
            const data = ("""
        + DATA_TRANSFER
        + """)(args);
            field.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
        }""",
        ["image.png", base64.b64encode(png(200, 120, 99)).decode(), "image/png"],
    )
    expect(ada.get_by_role("button", name=re.compile(r"^Remove pasted-image-\d{8}-\d{6}\.png$"))).to_be_visible()
    expect(composer(ada)).to_have_value("")
    expect(ada.get_by_role("progressbar")).to_have_count(0)

    # A message of files alone may go: Enter in the empty field sends it.
    composer(ada).press("Enter")
    for page in (ada, grace):
        sent = with_attachment(page, "gears.png")
        expect(sent).to_have_count(1)
        expect(page.get_by_role("img", name=PASTED)).to_have_count(1)
        expect(log_items(page)).to_have_count(1)
        assert image_loaded(inline_image(sent, "gears.png"))
    expect(conversation_item(grace, "Ada Lovelace")).to_contain_text("2 photos")


def seed_search(aio: AsyncThread, url: str) -> None:
    """Ada, Grace and Alan: a long direct conversation with an old match, and a group."""
    ada, grace, alan = people(url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"), ("alan", "Alan Turing"))
    a, g, t = aio.socket(ada), aio.socket(grace), aio.socket(alan)

    def start(sender: Socket, user_ids: list[str], title: str | None = None) -> str:
        payload: dict[str, Any] = {"user_ids": user_ids, **({"title": title} if title else {})}
        started = aio.run(sender.call("start_conversation", payload))
        assert started["ok"], started
        conversation_id: str = started["conversation"]["id"]
        return conversation_id

    def say(sender: Socket, conversation_id: str, body: str) -> None:
        sent = aio.run(sender.send(conversation_id, body, str(uuid.uuid4())))
        assert sent["ok"], sent

    direct = start(a, [grace.id])
    say(a, direct, "The Difference Engine plans are in the top drawer")
    # More than a page (the client loads 50) lies between that message and the newest.
    for n in range(60):
        say(a if n % 2 else g, direct, f"Filler {n}")
    say(g, direct, "Engine room at noon?")
    group = start(a, [grace.id, alan.id], "Analytical Engine")
    say(t, group, "The engines need oiling before the demo")
    say(a, group, "Café after the démo, my treat")
    for s in (a, g, t):
        aio.run(s.disconnect())


def test_search_highlights_matches_and_leads_to_the_message_in_its_conversation(
    new_page: NewPage, server: ServerProcess, aio: AsyncThread
) -> None:
    seed_search(aio, server.url)
    page = new_page(server.url, DESKTOP)
    sign_in(page, "grace")

    # Newest first, across conversations; the last word also matches as a prefix ("engines").
    search_field(page).fill("engine")
    results = search_results(page)
    expect(results).to_have_count(3)
    expect(results.nth(0)).to_contain_text("The engines need oiling before the demo")
    expect(results.nth(0)).to_contain_text("Analytical Engine")
    expect(results.nth(1)).to_contain_text("Engine room at noon?")
    expect(results.nth(2)).to_contain_text("The Difference Engine plans are in the top drawer")
    expect(results.nth(2).locator("mark")).to_have_text(["Engine"])
    expect(results.nth(0).locator("mark")).to_have_text([re.compile(r"^engines?$")])

    # Accents and case do not matter.
    search_field(page).fill("cafe demo")
    expect(results).to_have_count(1)
    expect(results.nth(0).locator("mark")).to_have_text(["Café", "démo"])

    # Nothing matches: the list is empty and says so.
    search_field(page).fill("zeppelin")
    expect(results).to_have_count(0)
    expect(page.get_by_text("No messages match “zeppelin”.", exact=True)).to_be_visible()

    # A result far back in a long conversation: clicking it opens the conversation and shows the message.
    search_field(page).fill("difference")
    expect(results).to_have_count(1)
    original = "The Difference Engine plans are in the top drawer"
    expect(message(page, original)).to_have_count(0)
    results.nth(0).get_by_role("button").click()
    expect(message(page, original)).to_be_in_viewport()
    expect(message(page, original)).to_be_focused()
    expect(message(page, "Engine room at noon?")).not_to_be_in_viewport()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()

    # Another result leads to another conversation.
    search_field(page).fill("oiling")
    expect(results).to_have_count(1)
    expect(results.nth(0)).to_contain_text("The engines need oiling before the demo")
    results.nth(0).get_by_role("button").click()
    expect(page.get_by_role("heading", name="Analytical Engine")).to_be_visible()
    expect(message(page, "The engines need oiling before the demo")).to_be_in_viewport()

    search_field(page).fill("engine")
    expect(results).to_have_count(3)
    screenshot(page, "desktop-search.png")

    # Escape clears the search.
    search_field(page).press("Escape")
    expect(search_field(page)).to_have_value("")
    expect(page.get_by_role("list", name="Search results")).to_have_count(0)


def test_screenshots_of_files_on_desktop_and_phone(
    new_page: NewPage, sqlite_server: ServerProcess, aio: AsyncThread, tmp_path: Path
) -> None:
    """Writes docs/screenshots/desktop-files.png and phone-files.png."""
    people(sqlite_server.url, ("ada", "Ada Lovelace"), ("grace", "Grace Hopper"))
    ada, grace = two_pages(new_page, sqlite_server.url)
    photos = []
    for n, (width, height) in enumerate(((640, 420), (480, 480), (400, 600))):
        path = tmp_path / f"engine-part-{n + 1}.png"
        path.write_bytes(png(width, height, seed=60 * n))
        photos.append(path)
    sheet = tmp_path / "bernoulli-numbers.csv"
    sheet.write_text("n,B(n)\n0,1\n1,-1/2\n2,1/6\n4,-1/30\n6,1/42\n8,-1/30\n")

    attach_files(grace, *photos)
    expect(grace.get_by_role("progressbar")).to_have_count(0)
    composer(grace).fill("Photos of the parts from the workshop")
    composer(grace).press("Enter")
    attach_files(ada, sheet)
    expect(remove_upload(ada, "bernoulli-numbers.csv")).to_be_visible()
    expect(ada.get_by_role("progressbar")).to_have_count(0)
    composer(ada).fill("And the table for note G")
    composer(ada).press("Enter")
    expect(file_link(message(grace, "And the table for note G"), "bernoulli-numbers.csv")).to_be_visible()
    for photo in photos:
        expect(inline_image(message(ada, "Photos of the parts from the workshop"), photo.name)).to_be_visible()
    attach_files(ada, photos[0])
    expect(remove_upload(ada, photos[0].name)).to_be_visible()
    expect(ada.get_by_role("progressbar")).to_have_count(0)
    composer(ada).fill("One more angle")
    screenshot(ada, "desktop-files.png")
    ada.context.close()

    phone = new_page(sqlite_server.url, PHONE, 2)
    sign_in(phone, "grace")
    conversation_item(phone, "Ada Lovelace").click()
    expect(file_link(message(phone, "And the table for note G"), "bernoulli-numbers.csv")).to_be_visible()
    for photo in photos:
        image = inline_image(message(phone, "Photos of the parts from the workshop"), photo.name)
        expect(image).to_have_js_property("complete", True)
        assert image_loaded(image)
    width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide on a {width[1]} px screen"
    screenshot(phone, "phone-files.png")
