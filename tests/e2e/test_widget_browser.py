"""The widget in a real browser (headless Chromium) against the real running stack."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from bot.settings import REPO_ROOT
from tests.e2e.conftest import AXE

pytestmark = [pytest.mark.browser, pytest.mark.integration]
DOCS = REPO_ROOT / "docs"
QUESTION = "What is SEN Support?"
LAUNCHER = "Ask about SEN Support"


@pytest.fixture
def page(chromium, live_stack):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.dialogs = []  # any alert() would mean injected script ran
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.requested = []
    page.on("request", lambda r: page.requested.append(r.url))
    page.base = live_stack.widget_url
    yield page
    context.close()


def focused(page: Page) -> str:
    """Class or id of the element with keyboard focus, looking inside the widget."""
    return page.evaluate(
        """() => { let e = document.activeElement;
                   while (e && e.shadowRoot && e.shadowRoot.activeElement)
                       e = e.shadowRoot.activeElement;
                   return e ? (e.id || e.className || e.tagName) : ''; }"""
    )


def open_with_keyboard(page: Page) -> None:
    for _ in range(12):
        page.keyboard.press("Tab")
        if focused(page) == "launch":
            break
    assert focused(page) == "launch", "the launcher is not reachable with Tab"
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name=LAUNCHER)).to_be_visible()
    assert focused(page) == "senbot-input"


def ask(page: Page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def log(page: Page):
    return page.get_by_role("log", name="Conversation")


def test_keyboard_question_answer_source_reload_clear_and_escape(page):
    page.goto(page.base + "/demo")
    open_with_keyboard(page)
    expect(page.get_by_text("How your messages are used")).to_have_attribute(
        "href", page.base + "/privacy"
    )
    ask(page, QUESTION)
    # Set as the message leaves; Rasa takes far longer than this check to answer.
    assert page.locator("#senbot-widget .typing").is_visible()
    citation = log(page).locator(".src")
    expect(citation).to_contain_text("Source:", timeout=60_000)
    expect(citation.locator("cite")).not_to_be_empty()
    answer = log(page).locator(".msg.bot").first
    assert len(answer.inner_text()) > 80
    expect(log(page).get_by_role("button", name="Yes")).to_be_visible()
    page.screenshot(path=str(DOCS / "widget-desktop.png"))

    answer_text = answer.inner_text()
    page.reload()
    expect(log(page)).to_contain_text(QUESTION)
    expect(log(page)).to_contain_text(answer_text[:60])

    page.get_by_role("textbox", name="Your question").focus()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert focused(page) == "launch"

    page.keyboard.press("Enter")
    page.get_by_role("button", name="Clear conversation").click()
    expect(log(page).locator(".msg")).to_have_count(0)
    page.reload()
    expect(log(page).locator(".msg")).to_have_count(0)
    # Everything the page loaded came from the assistant's own server.
    others = [
        u for u in page.requested if not u.startswith(page.base + "/") and not u.startswith("data:")
    ]
    assert others == []


def test_network_failure_says_so_and_shows_the_numbers(page):
    page.goto(page.base + "/demo")
    open_with_keyboard(page)
    expect(page.get_by_role("dialog")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the contacts arrived when it opened
    page.route("**/api/chat", lambda route: route.abort("internetdisconnected"))
    ask(page, QUESTION)
    error = log(page).locator(".err")
    expect(error).to_contain_text("can't connect")
    expect(error.locator('a[href="tel:116123"]')).to_have_text("116 123")
    expect(error.get_by_role("link", name=re.compile("childline"))).to_have_attribute(
        "href", re.compile(r"^https://www\.childline\.org\.uk")
    )


@pytest.mark.parametrize(
    "payload",
    [
        '<img src=x onerror="alert(1)">',
        "<script>alert(2)</script>",
    ],
)
def test_markup_shows_as_plain_text(page, payload):
    page.goto(page.base + "/demo")
    open_with_keyboard(page)
    ask(page, payload)
    expect(log(page).locator(".msg.bot").first).to_be_visible(timeout=60_000)
    expect(log(page).locator(".msg.user")).to_contain_text(payload)
    widget = page.locator("#senbot-widget")
    assert widget.locator("img").count() == 0 and widget.locator("script").count() == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_quick_exit_leaves_the_page_and_forgets_the_conversation(page):
    page.goto(page.base + "/demo?exit=/privacy")
    open_with_keyboard(page)
    ask(page, "hello")
    expect(log(page).locator(".msg.bot").first).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Quick exit").click()
    page.wait_for_url(page.base + "/privacy")
    assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('senbot'))") == []
    # location.replace: Back does not return to the chat.
    page.go_back()
    assert "/demo" not in page.url


def test_axe_finds_no_serious_or_critical_problems_in_the_open_widget(chromium, live_stack):
    assert AXE.exists(), "axe-core is missing: run `make browser`"
    # axe is injected as an inline script, which the page's CSP rightly forbids.
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(live_stack.widget_url + "/demo")
        page.get_by_role("button", name=LAUNCHER).click()
        ask(page, QUESTION)
        expect(log(page).locator(".src")).to_be_visible(timeout=60_000)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "() => axe.run({include: [['#senbot-widget']]}, {resultTypes: ['violations']})"
        )
        bad = [
            (v["id"], v["impact"], v["help"])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == []
    finally:
        context.close()


@pytest.mark.parametrize(
    ("width", "height", "shot"),
    [
        (320, 640, "widget-phone.png"),  # a small phone
        (640, 360, None),  # a 1280x720 window at 200% zoom
    ],
)
def test_the_open_widget_fits_small_screens_and_200_percent_zoom(
    chromium, live_stack, width, height, shot
):
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(live_stack.widget_url + "/demo")
        page.get_by_role("button", name=LAUNCHER).click()
        ask(page, QUESTION)
        expect(log(page).locator(".src")).to_be_visible(timeout=60_000)
        panel = page.get_by_role("dialog").bounding_box()
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width
        assert panel["y"] >= 0 and panel["y"] + panel["height"] <= height
        for name in ("Send", "Quick exit", "Close chat"):
            box = page.get_by_role("button", name=name).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, name
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if shot:
            page.screenshot(path=str(DOCS / shot))
    finally:
        context.close()


def test_reduced_motion_stops_the_typing_animation(chromium, live_stack):
    context = chromium.new_context(reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto(live_stack.widget_url + "/demo")
        page.get_by_role("button", name=LAUNCHER).click()
        animation = page.evaluate(
            "() => getComputedStyle(document.querySelector('#senbot-widget')"
            ".shadowRoot.querySelector('.dot')).animationName"
        )
        assert animation == "none"
    finally:
        context.close()


def test_a_pale_colour_falls_back_to_one_white_text_can_be_read_on(chromium, live_stack):
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(live_stack.widget_url + "/privacy")
        page.evaluate(
            """src => { const s = document.createElement('script'); s.src = src;
                        s.dataset.colour = '#ffff00'; s.dataset.title = 'Help';
                        document.body.appendChild(s); }""",
            live_stack.widget_url + "/widget.js",
        )
        launcher = page.get_by_role("button", name="Help")
        background = launcher.evaluate("e => getComputedStyle(e).backgroundColor")
        assert background == "rgb(29, 79, 145)"  # #1d4f91: 8.6:1 with white
    finally:
        context.close()


def test_rasa_down_the_widget_says_so_and_shows_the_numbers(page, live_stack):
    page.goto(page.base + "/demo")
    open_with_keyboard(page)
    live_stack.stack.stop(("rasa",))
    try:
        ask(page, QUESTION)
        error = log(page).locator(".err")
        expect(error).to_contain_text("can't connect", timeout=30_000)
        for number in ("999", "111", "0800 1111", "116 123"):
            expect(error.locator(f'a[href="tel:{number.replace(" ", "")}"]')).to_have_text(number)
        expect(error).to_contain_text(re.compile("SENDIAS"))
        expect(page.get_by_role("button", name="Send")).to_be_enabled()
    finally:
        live_stack.stack.start(("rasa",))


def test_no_answer_within_20_seconds_is_not_a_silent_hang(page):
    page.goto(page.base + "/demo")
    open_with_keyboard(page)
    page.wait_for_load_state("networkidle")
    page.route("**/api/chat", lambda route: None)  # the request never gets a reply
    ask(page, QUESTION)
    expect(page.locator("#senbot-widget .typing")).to_be_visible()
    error = log(page).locator(".err")
    expect(error).to_contain_text("can't connect", timeout=30_000)
    expect(error.locator('a[href="tel:999"]')).to_have_text("999")
    expect(page.locator("#senbot-widget .typing")).to_be_hidden()


def test_the_source_title_links_to_the_page_and_an_old_page_is_flagged(page):
    page.goto(page.base + "/demo")
    open_with_keyboard(page)
    ask(page, "How long does the council have to decide whether to do an EHC needs assessment?")
    citation = log(page).locator(".src")
    expect(citation).to_contain_text("Source:", timeout=60_000)
    link = citation.get_by_role("link")
    expect(link).to_have_attribute(
        "href", "https://legislation.gov.uk/uksi/2014/1530/regulation/5/data.htm"
    )
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link.locator("cite")).to_contain_text("Regulations 2014")
    expect(citation).not_to_contain_text("check it is still current")  # law in force

    page.get_by_role("textbox", name="Your question").focus()
    ask(page, "Is SEN the same as a disability?")
    expect(citation).to_have_count(2, timeout=60_000)
    old = citation.nth(1)
    expect(old).to_contain_text("(page from 2018: check it is still current)")
    expect(old.get_by_role("link")).to_have_attribute(
        "href",
        "https://www2.oxfordshire.gov.uk/cms/content/"
        "introduction-send-and-oxfordshires-action-plan",
    )
    # The text line is not shown beside the citation built from the data.
    expect(log(page).locator(".msg.bot:not(.src)", has_text="Source:")).to_have_count(0)
