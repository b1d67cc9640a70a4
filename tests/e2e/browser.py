"""Shared helpers for the browser tests of the web client (Playwright, Debian's Chromium).

Everything here locates elements by the accessible names of section 5 of the wire contract
(labels, roles, texts), never by CSS classes, so the tests check what people and assistive
technology actually get.
"""

import asyncio
import re
import struct
import threading
import zlib
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

from tests.support.clients import Person, Socket
from tests.support.databases import database
from tests.support.server import ServerProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

#: the text of an own message's state (contract section 5)
STATE = re.compile(r"^(Sending|Sent|Delivered|Read|Failed)$")
#: any unread badge
UNREAD = re.compile(r"^\d+\+? unread$")
#: the text a deleted message shows instead of its body (contract section 5)
DELETED = "This message was deleted"
CONVERSATION_HASH = re.compile(r"#/c/[0-9a-fA-F-]{36}$")

T = TypeVar("T")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module; each person gets a new context (own storage)."""
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class AsyncThread:
    """An asyncio loop in a background thread, so sync browser tests can drive python-socketio clients.

    (Playwright's sync API keeps its own loop "running" on the main thread, so asyncio.run() cannot
    be used there.)
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="socketio-loop", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def socket(self, person: Person) -> Socket:
        async def connect() -> Socket:
            return await Socket(person).connect()

        return self.run(connect())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def aio() -> Iterator[AsyncThread]:
    runner = AsyncThread()
    try:
        yield runner
    finally:
        runner.close()


def open_page(browser: Browser, url: str, viewport: dict[str, int] | None = None, scale: float = 1) -> Page:
    """A new person: a fresh context (empty localStorage) with one page at the app."""
    context: BrowserContext = browser.new_context(viewport=viewport or DESKTOP, device_scale_factor=scale)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(url + "/")
    return page


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """`new_page(url, viewport=DESKTOP, scale=1)`: a page for a new person, closed after the test."""
    pages: list[Page] = []

    def make(url: str, viewport: dict[str, int] | None = None, scale: float = 1) -> Page:
        page = open_page(browser, url, viewport, scale)
        pages.append(page)
        return page

    yield make
    for page in pages:
        try:
            page.context.close()
        except Exception:  # already closed by the test
            pass


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A real `parley serve` on a throwaway SQLite database (browser tests are slow enough)."""
    with database("sqlite", tmp_path) as url:
        process = ServerProcess(url).start()
        try:
            yield process
        finally:
            process.stop()


def people(url: str, *names: tuple[str, str]) -> list[Person]:
    """Registers users over HTTP and connects the first one with every other one."""
    persons = [Person(url, username, display_name=display).register() for username, display in names]
    for other in persons[1:]:
        persons[0].connect_with(other)
    return persons


def sign_up(page: Page, username: str, display_name: str, password: str = PASSWORD) -> None:
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Display name", exact=True).fill(display_name)
    page.get_by_role("button", name="Create account", exact=True).click()
    expect_signed_in(page)


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect_signed_in(page)


def expect_signed_in(page: Page) -> None:
    expect(conversations(page)).to_be_attached()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_have_count(0)
    expect(connection_state(page)).to_have_text("Connected")


def connection_state(page: Page) -> Locator:
    return page.get_by_role("status", name="Connection state", exact=True)


def conversations(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Conversations", exact=True)


def conversation_item(page: Page, name: str) -> Locator:
    """The item of the conversation list that shows `name` (other party or group title)."""
    return conversations(page).get_by_role("link").filter(has_text=name)


def connected_person(page: Page, display_name: str) -> Locator:
    """The entry of a connected user: it shows their name and has a `Message` button."""
    return (
        page.get_by_role("listitem")
        .filter(has_text=display_name)
        .filter(has=page.get_by_role("button", name="Message", exact=True))
    )


def open_direct(page: Page, display_name: str) -> str:
    """Clicks `Message` next to a connected user; returns the id of the conversation it opened."""
    connected_person(page, display_name).get_by_role("button", name="Message", exact=True).click()
    expect(page).to_have_url(CONVERSATION_HASH)
    expect(message_log(page)).to_be_visible()
    return page.url.rsplit("/", 1)[1]


def message_log(page: Page) -> Locator:
    return page.get_by_role("log", name="Messages", exact=True)


def log_items(page: Page) -> Locator:
    return message_log(page).get_by_role("listitem")


def message(page: Page, body: str) -> Locator:
    """The log entry whose body is exactly `body`."""
    return log_items(page).filter(has=page.get_by_text(body, exact=True))


def tombstones(page: Page) -> Locator:
    """The log entries of deleted messages."""
    return log_items(page).filter(has=page.get_by_text(DELETED, exact=True))


def message_action(page: Page, body: str, action: str) -> None:
    """Opens `More actions` on the message `body` and picks `action` (Reply, Edit, Delete, React)."""
    message(page, body).get_by_role("button", name="More actions", exact=True).click()
    page.get_by_role("menu").get_by_role("menuitem", name=action, exact=True).click()


def menu_items(page: Page, body: str) -> list[str]:
    """The items of the message's `More actions` menu (the menu is closed again afterwards)."""
    message(page, body).get_by_role("button", name="More actions", exact=True).click()
    items = page.get_by_role("menu").get_by_role("menuitem")
    expect(items.first).to_be_visible()
    names = [item.inner_text() for item in items.all()]
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_have_count(0)
    return names


def react(page: Page, body: str, emoji: str) -> None:
    """Reacts to the message `body` with `emoji` through `More actions` > `React`."""
    message_action(page, body, "React")
    page.get_by_role("dialog", name="Pick a reaction").get_by_role("button", name=emoji, exact=True).click()


def reaction(page: Page, body: str, emoji: str, count: int) -> Locator:
    """The reaction button `<emoji> <count>` of the message `body`."""
    return message(page, body).get_by_role("button", name=f"{emoji} {count}", exact=True)


def reactions(page: Page, body: str) -> Locator:
    """Every reaction button of the message `body`."""
    return message(page, body).get_by_role("button", name=re.compile(r"^\S+ \d+$"))


def message_state(page: Page, body: str) -> Locator:
    return message(page, body).get_by_text(STATE)


def composer(page: Page) -> Locator:
    return page.get_by_label("Message", exact=True)


def send_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Send", exact=True)


def expect_log(page: Page, bodies: list[str], timeout: float = 10_000) -> None:
    """The log lists exactly these bodies, in this order."""
    items = log_items(page)
    expect(items).to_have_count(len(bodies), timeout=timeout)
    expect(items).to_contain_text(bodies, timeout=timeout)
    for body in bodies:
        expect(message(page, body)).to_have_count(1)


def screenshot(target: Page | Locator, name: str) -> Path:
    """A PNG of the page (or of one element) in docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    target.screenshot(path=str(path), animations="disabled")
    return path


def open_group_settings(page: Page) -> Locator:
    """Clicks `Group settings` in the open group's header; returns the dialog."""
    page.get_by_role("button", name="Group settings", exact=True).click()
    dialog = page.get_by_role("dialog", name="Group settings", exact=True)
    expect(dialog).to_be_visible()
    return dialog


def group_member(dialog: Locator, display_name: str) -> Locator:
    """A member's entry in the `Group settings` dialog (its buttons are `Remove`, `Make admin`...)."""
    return dialog.get_by_role("list", name="Members", exact=True).get_by_role("listitem").filter(has_text=display_name)


def system_notice(page: Page, text: str) -> Locator:
    """The log entry of a system message (a membership, title or role change) reading `text`."""
    return log_items(page).filter(has=page.get_by_text(text, exact=True))


def open_settings(page: Page) -> Locator:
    """Clicks `Settings`; returns the list of blocked users (which may be absent when there are none)."""
    page.get_by_role("button", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    return page.get_by_role("list", name="Blocked users", exact=True)


# -- attachments and search (contract sections 5, 9 and 10) ----------------------------------------


def png(width: int, height: int, seed: int = 0) -> bytes:
    """A real PNG (an RGB gradient) of this size, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00"
        + bytes(
            value
            for x in range(width)
            for value in (x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (seed * 7) % 256)
        )
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def attach_files(page: Page, *paths: Path) -> None:
    """Clicks `Attach file` and picks these files in the file dialog."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach file", exact=True).click()
    chooser.value.set_files([str(path) for path in paths])


def upload_progress(page: Page, filename: str) -> Locator:
    """The progress bar of a file being uploaded for the next message."""
    return page.get_by_role("progressbar", name=f"Uploading {filename}", exact=True)


def remove_upload(page: Page, filename: str) -> Locator:
    return page.get_by_role("button", name=f"Remove {filename}", exact=True)


def inline_image(target: Page | Locator, filename: str) -> Locator:
    """An image shown in a message (alt text = the filename)."""
    return target.get_by_role("img", name=filename, exact=True)


def file_link(target: Page | Locator, filename: str) -> Locator:
    """The link of a file that is not shown inline, named by its filename."""
    return target.get_by_role("link", name=filename, exact=True)


def with_attachment(page: Page, filename: str) -> Locator:
    """The log entries that carry the attachment `filename` (an image or a file link)."""
    return (
        log_items(page)
        .filter(has=page.get_by_role("img", name=filename, exact=True))
        .or_(log_items(page).filter(has=page.get_by_role("link", name=filename, exact=True)))
    )


def image_loaded(image: Locator) -> bool:
    """Whether the browser fetched and decoded the image (its bytes were served and are an image)."""
    return bool(image.evaluate("img => img.complete && img.naturalWidth > 0"))


def search_field(page: Page) -> Locator:
    return page.get_by_label("Search messages", exact=True)


def search_results(page: Page) -> Locator:
    """The items of the list `Search results`."""
    return page.get_by_role("list", name="Search results", exact=True).get_by_role("listitem")
