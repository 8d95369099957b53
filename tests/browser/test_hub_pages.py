"""The hub's own pages as each role sees them in headless Chromium at 1366x768 (issue 12, part 5).

On the session hub (tests/conftest.py), whose staff has an instructor (`giangvien01`) and a
learner no other test logs in (`hocvien05`), so that the learner's first start still passes
through the spawn-pending page. For each demo role the test logs in through the form, reads the spawn-pending page on the way to the server, then the home page,
the services menu, the token page, a 404 and a 403 page. On every page the visible text
(document.body.innerText) must hold no English word from upstream: each word made of ASCII
letters only must be a word of the Vietnamese catalogue (Vietnamese words without diacritics,
such as "Trang", are there) or one of a few allowed names. Screenshots are kept in the
artefacts folder.
"""

from __future__ import annotations

import re
from importlib import resources

import pytest

from kynangso.hub.harness import IS_ROOT
from kynangso.i18n import catalogue
from tests.browser.vietnamese import english_words, visible_text

pytestmark = [pytest.mark.slow(80), pytest.mark.browser, pytest.mark.hub, pytest.mark.root,
              pytest.mark.skipif(not IS_ROOT, reason="per-user Unix accounts need root")]

# The session hub's accounts this test logs in as, with their full names (tests/conftest.py's STAFF).
PEOPLE = {
    "hocvien05": "Bùi Văn Khánh",
    "giangvien01": "Vũ Thị Lan",
    "nhansu01": "Phạm Thu Hà",
    "quantri": "Đỗ Minh Quân",
}
VIEWPORT = {"width": 1366, "height": 768}
WAIT = 180_000  # ms: a ceiling for a busy 2-core machine starting servers, not a measured duration

# Names that may show in ASCII letters here: the login names and people's names (an app greets
# its user by full name: "Vũ Thị Lan").
ALLOWED = set(PEOPLE)
ALLOWED |= {word.lower() for name in PEOPLE.values() for word in name.split()}


@pytest.fixture
def vpage(browser, request, artifacts):
    """A page at the issue's laptop size (the shared `page` fixture is 1366x900)."""
    context = browser.new_context(viewport=VIEWPORT, locale="vi-VN")
    page = context.new_page()
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        page.screenshot(path=str(artifacts / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


def check_page(page, artifacts, name: str, seen: dict) -> str:
    """Screenshot the page, and record its English words under `name`."""
    page.screenshot(path=str(artifacts / f"hub-pages-{name}.png"), full_page=True)
    text = visible_text(page)
    found = english_words(text, ALLOWED)
    if found:
        seen[name] = found
    return text


def log_in_and_pass_spawn(page, hub, username: str, artifacts, seen: dict) -> None:
    """The login form, then the spawn-pending page (read while the server starts), then the server;
    for an instructor, their app (the exam desk's page), where they land."""
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", username)
    page.fill("#password_input", hub.passwords[username])
    page.click("#login_submit")
    page.wait_for_url(re.compile(r"/hub/spawn-pending/|/user/|/services/(admin|exams|reports)/"),
                      timeout=WAIT)
    if "/services/admin/" in page.url:  # admins land on the admin app, no server of their own
        return
    if "/services/reports/" in page.url:  # HR lands on the dashboards' index
        page.get_by_role("heading", level=1).wait_for(timeout=WAIT)
        check_page(page, artifacts, f"{username}-landing", seen)
        return
    if "/services/exams/" in page.url:  # instructors land on their app (navigation.LANDING)
        page.get_by_role("heading", level=1).wait_for(timeout=WAIT)
        check_page(page, artifacts, f"{username}-landing", seen)
        return
    if "/hub/spawn-pending/" in page.url:
        try:
            # The first progress event arrives at once; the server needs seconds more to start.
            page.locator("#progress-message").filter(has_text=re.compile(r"\S")).wait_for(timeout=30_000)
            check_page(page, artifacts, f"{username}-spawn-pending", seen)
        except Exception:  # already redirected to the started server: nothing left to read
            pass
    page.wait_for_url(f"**/user/{username}/**", timeout=WAIT)


def menu_items(page) -> list[str]:
    toggle = page.locator("#thenavbar .dropdown-toggle")
    if not toggle.count():
        return []
    toggle.first.click()
    menu = page.locator("#thenavbar .dropdown-menu").first
    menu.wait_for(state="visible", timeout=10_000)
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORT["width"], f"menu cut off: {box}"
    return [s.strip() for s in menu.locator(".dropdown-item").all_inner_texts()]


def label(key: str) -> str:
    """A catalogue message; a missing one shows as its key in the failure, not as a crash."""
    return catalogue().get(key, f"<{key}>")


# role: (username, menu labels expected, home links expected (id: message key))
ROLES = {
    "learner": ("hocvien05", ["hub.menu_exams_learner"], {"kns-link-course": "hub.home_link_course"}),
    "instructor": ("giangvien01", ["hub.menu_exams_desk", "hub.menu_formgrader"],
                   {"kns-link-exams-desk": "hub.home_link_exams_desk",
                    "kns-link-formgrader": "hub.home_link_formgrader"}),
    "hr": ("nhansu01", ["hub.menu_reports"], {"kns-link-reports": "hub.home_link_reports"}),
    "admin": ("quantri", ["hub.menu_exams_desk", "hub.menu_formgrader", "hub.menu_admin_app",
                          "hub.menu_reports"],
              {"kns-link-admin-app": "hub.home_link_admin_app",
               "kns-link-exams-desk": "hub.home_link_exams_desk",
               "kns-link-formgrader": "hub.home_link_formgrader",
               "kns-link-reports": "hub.home_link_reports"}),
}


@pytest.mark.parametrize("role", list(ROLES))
def test_hub_pages_are_vietnamese_for_each_role(role, hub, vpage, artifacts):
    """Each role's hub pages: Vietnamese only, a services menu of what the role may open (by its
    Vietnamese name, inside the screen), role links on the home page, no token page for learners,
    error pages with one readable message and a way home. Every problem is collected, then
    reported together."""
    username, menu_keys, links = ROLES[role]
    page, seen, problems = vpage, {}, []
    log_in_and_pass_spawn(page, hub, username, artifacts, seen)

    page.goto(f"{hub.url}/hub/home")
    home = check_page(page, artifacts, f"{username}-home", seen)
    for link_id, key in links.items():
        link = page.locator(f"#{link_id}")
        if not link.count() or link.inner_text().strip() != label(key):
            problems.append(f"no home link {label(key)!r}")
    token_links = page.locator("#thenavbar a[href$='/hub/token']").count()

    try:
        items = menu_items(page)
    except AssertionError as e:
        items, problems = None, [*problems, str(e)]
    check_page(page, artifacts, f"{username}-services-menu", seen)
    if items is not None and items != [label(k) for k in menu_keys]:
        problems.append(f"services menu {items}")

    page.goto(f"{hub.url}/hub/token")
    token_page = check_page(page, artifacts, f"{username}-token", seen)
    if role == "learner":
        if token_links:
            problems.append("the menu links to the token page")
        if page.locator(".revoke-token-btn").count():
            problems.append(f"{page.locator('.revoke-token-btn').count()} tokens offered for revocation")
        if page.locator("#request-token-form").count() or label("hub.token_not_for_learners") not in token_page:
            problems.append("the token page is open to the learner")
    elif not page.locator("#request-token-form").is_visible():
        problems.append("no token form")

    r = page.goto(f"{hub.url}/hub/no-such-page-kns")
    if r.status != 404:
        problems.append(f"404 page gave {r.status}")
    check_page(page, artifacts, f"{username}-404", seen)

    # The reports are HR's: anyone else is refused by the hub (OAuth), HR by the service itself
    # for a path outside its allow-list.
    forbidden = "/services/reports/" if role in ("learner", "instructor") else "/services/reports/no-such-route"
    r = page.goto(f"{hub.url}{forbidden}")
    if r.status != 403:
        problems.append(f"{forbidden} gave {r.status}")
    text = check_page(page, artifacts, f"{username}-403", seen)
    if not page.locator("a[href$='/hub/home']").count():
        problems.append("the 403 page has no way home")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != len(set(lines)):
        problems.append(f"the 403 page repeats a line: {lines}")
    biggest = page.evaluate("Math.max(...[...document.querySelectorAll('body *')]"
                            ".map(e => parseFloat(getComputedStyle(e).fontSize)))")
    if biggest > 40:
        problems.append(f"403 page text {biggest}px high")

    if seen:
        problems.append(f"English words: {seen}")
    assert not problems, f"{role}: " + "\n".join(problems) + f"\n--- home page:\n{home}"


def test_english_word_check_catches_upstream_text():
    """The checker itself: upstream English is caught, Vietnamese and names pass."""
    assert english_words("Spawning server... Server requested") == ["Server", "Spawning", "requested", "server"]
    assert english_words("403 : Forbidden") == ["Forbidden"]
    assert english_words("Trang chủ · Đăng xuất hocvien01 · Kỹ Năng Số") == []
    assert resources.files("kynangso").joinpath("locale/vi/hub.yaml").is_file()
