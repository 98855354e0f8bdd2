"""WCAG 2.1 AA (GB/T 37668-2019) of the public column, the reply pages, the receipt form and
the login page: axe-core (static/vendor/axe-core) in Chromium finds nothing serious or
critical; the receipt form works from the keyboard alone with visible focus; 适老化: the
large-text switch is remembered, and at 200 % zoom on a 375 px phone nothing scrolls sideways.

Another page joins every check by adding a (name, url) to `pages()` (e.g. the search and its
results, the API page).
"""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from replies import services
from replies.models import Receipt, ReplyLetter

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def site(transactional_db):
    call_command("load_demo", "--force", verbosity=0)
    cache.clear()  # the receipt form's rate limit
    yield
    cache.clear()


def open_receipt():
    """An unanswered receipt of a letter sent just now, so its link works."""
    receipt = Receipt.objects.filter(submitted_at__isnull=True).order_by("pk").first()
    ReplyLetter.objects.filter(pk=receipt.letter_id).update(sent_at=timezone.now())
    return receipt


def letter_of(number):
    return ReplyLetter.objects.get(assignment__proposal__number=number)


def pages():
    """(name, path) of every page the checks visit."""
    reply = letter_of(69)
    corrected = letter_of(31)  # corrected for typing errors: it has an earlier version
    receipt_url = services.receipt_url(open_receipt())
    session = reply.assignment.proposal.session_id
    return {
        "column": "/",
        "column-filtered": f"/?session={session}",
        "reply": f"/replies/{reply.pk}/",
        "reply-summary": f"/replies/{letter_of(47).pk}/",
        "reply-print": f"/replies/{reply.pk}/print/",
        "reply-version": f"/replies/{corrected.pk}/versions/1/",
        "receipt-form": receipt_url,
        "receipt-form-errors": receipt_url,  # submitted empty: the errors shown
        "login": "/accounts/login/",
        "search": "/search/?q=%E9%AB%98%E6%96%B0%E5%8C%BA",  # 高新区
        "api": "/api/",
    }


def visit(page, live_server, name, path):
    response = page.goto(live_server.url + path)
    assert response.status == 200, (name, path, response.status)
    if name == "receipt-form-errors":
        page.click("button.submit")
        page.wait_for_selector(".errors")


def axe_violations(page):
    # From the site's own static files: the Content-Security-Policy allows no inline script.
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_AA,
    )
    assert result["passes"], "axe ran no rule"
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large-text"])
def test_no_serious_or_critical_accessibility_violations(site, live_server, page, large):
    found = {}
    for name, path in pages().items():
        if large:
            page.goto(live_server.url + "/")
            page.evaluate("localStorage.setItem('tian-large-text', '1')")
        visit(page, live_server, name, path)
        if large and name != "login":
            assert page.evaluate("document.documentElement.classList.contains('large-text')")
        violations = axe_violations(page)
        if violations:
            found[name] = violations
    assert not found, found


def outline_of_focus(page):
    """The focus ring of the focused element (for a choice, the label drawn around it)."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const ring = el.closest('label.choice') || el;
          const style = getComputedStyle(ring);
          return {tag: el.tagName, name: el.name || '', type: el.type || '',
                  value: el.value || '', checked: !!el.checked,
                  outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
        }"""
    )


def test_the_receipt_form_works_from_the_keyboard_alone(site, live_server, page):
    receipt = open_receipt()
    page.goto(live_server.url + services.receipt_url(receipt))
    answered = set()
    for _step in range(80):
        page.keyboard.press("Tab")
        focus = outline_of_focus(page)
        if focus["tag"] != "BODY":
            assert focus["outline"] != "none" and focus["width"] >= 2, focus
        if focus["type"] == "radio" and focus["name"] not in answered:
            # A group is one tab stop; Space picks the focused choice (the first one).
            page.keyboard.press("Space")
            assert outline_of_focus(page)["checked"], focus
            answered.add(focus["name"])
        elif focus["tag"] == "TEXTAREA":
            page.keyboard.type("感谢区科技局的答复。")
        elif focus["tag"] == "BUTTON" and focus["type"] == "submit" and "result" in answered:
            with page.expect_navigation():
                page.keyboard.press("Enter")
            break
    else:
        pytest.fail(f"Tabbing never reached the submit button; answered {answered}")
    assert {"contacted", "attitude", "result"} <= answered
    receipt.refresh_from_db()
    assert receipt.is_submitted
    assert receipt.opinion == "感谢区科技局的答复。"


def test_a_skip_link_leads_past_the_header(site, live_server, page):
    page.goto(f"{live_server.url}/replies/{letter_of(69).pk}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"


def test_the_large_text_switch_is_visible_and_remembered(site, live_server, page):
    reply = f"{live_server.url}/replies/{letter_of(69).pk}/"
    page.goto(reply)
    switch = page.locator("[data-large-text-switch]")
    assert switch.is_visible()
    assert switch.get_attribute("aria-pressed") == "false"
    size = "parseFloat(getComputedStyle(document.querySelector('.letter p')).fontSize)"
    before = page.evaluate(size)
    switch.click()
    assert switch.get_attribute("aria-pressed") == "true"
    assert page.evaluate(size) >= before * 1.25
    # Remembered on the next page, and on the receipt form.
    page.goto(live_server.url + "/")
    assert page.locator("[data-large-text-switch]").get_attribute("aria-pressed") == "true"
    page.goto(live_server.url + services.receipt_url(open_receipt()))
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    page.locator("[data-large-text-switch]").click()
    page.goto(reply)
    assert page.evaluate(size) == before


def test_no_sideways_scrolling_at_200_percent_on_a_phone_in_large_text(site, live_server, browser):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    # 200 % zoom: CSS pixels twice as large, so the page lays out in half the width.
    context.add_init_script(
        "localStorage.setItem('tian-large-text', '1');"
        "document.addEventListener('DOMContentLoaded', () => {"
        " document.documentElement.style.zoom = '2'; });"
    )
    page = context.new_page()
    wide = {}
    try:
        for name, path in pages().items():
            if name == "login":
                continue  # staff only, and not part of the public site's large mode
            visit(page, live_server, name, path)
            assert page.evaluate("document.documentElement.classList.contains('large-text')")
            assert page.evaluate("document.documentElement.style.zoom") == "2"
            if not page.evaluate(NO_SIDEWAYS):
                wide[name] = page.evaluate(
                    "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
                )
    finally:
        context.close()
    assert not wide, wide
