"""`wxocr serve`'s try-it page (``GET /``) in a real browser against a real server process:
Debian's Chromium driven by Playwright, the real model, generated documents whose true
fields are known. Each test names the promise it checks."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from PIL import Image

from benchmarks.docgen import generate
from wxocr_async.local import model_available

from .serving import ServeProcess, server_fixture


def _missing(reason: str) -> NoReturn:
    """Skip the module for a missing piece; in CI, fail: there it must be installed."""
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


CHROMIUM = os.environ.get("WXOCR_TEST_CHROMIUM", "/usr/bin/chromium")
if not model_available():
    _missing("rapidocr or onnxruntime is missing: the test extra installs them")
try:
    import pytest_playwright  # noqa: F401
    from playwright.sync_api import (
        Browser,
        ConsoleMessage,
        Locator,
        Page,
        Playwright,
        Request,
        Route,
        expect,
        sync_playwright,
    )
except ImportError:
    _missing("pytest-playwright is not installed: the try-it page is tested in a browser")
if not os.access(CHROMIUM, os.X_OK):
    _missing(f"no Chromium at {CHROMIUM} (set WXOCR_TEST_CHROMIUM to a Chromium executable)")

TOKEN = "the-try-it-pages-token-0123456789"
APPID = "wx-tryit-test-appid"
SECRET = "tryit-test-appsecret-0123456789abcdef"
#: milliseconds a recognition may take in the page (the first one waits for a worker)
RECOGNITION = 120_000
#: the generated documents (clean scans): the local engine reads every field of seeds
#: 1-12 of both sides right; the front of 3 has its address over two lines, the back of 7
#: a twenty-year validity (20220218-20420218)
FRONT_SEED = 3
BACK_SEED = 7
NOT_DRAWN = "not drawn"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch arguments, with Debian's Chromium instead of a download."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright for this module alone: its sync API runs an event loop in this thread
    while it lives, which the asyncio tests of any module after this one cannot share
    (pytest-playwright keeps it for the whole session)."""
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser_context_args() -> dict[str, Any]:
    """Plain contexts: no device emulated, no base URL (each test has its own server)."""
    return {}


@pytest.fixture(scope="module")
def browser(playwright: Playwright, browser_type_launch_args: dict[str, Any]) -> Iterator[Browser]:
    """Debian's Chromium, for this module's pages (pytest-playwright's ``page`` and
    ``context`` fixtures open theirs in it)."""
    launched = playwright.chromium.launch(**browser_type_launch_args)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """No base URL: every test has its own server. (Replaces pytest-playwright's fallback
    fixture, a plugin-instance method, which pytest 9 warns about: an error here.)"""
    return None


#: calls must carry TOKEN; no tokens issued
token_server = server_fixture(env={"WXOCR_TOKEN": TOKEN})
#: tokens issued to APPID/SECRET alone
pair_server = server_fixture(env={"WXOCR_APPID": APPID, "WXOCR_SECRET": SECRET})
#: no credentials: loopback only, no token
open_server = server_fixture()


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """An ID card's photo side as a PNG, and its true fields."""
    image, truth = generate("idcard_front", FRONT_SEED, "clean")
    path = tmp_path_factory.mktemp("tryit") / "idcard_front.png"
    image.save(path)
    return path, truth


@pytest.fixture(scope="module")
def back(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """An ID card's emblem side as a JPEG, and its true fields."""
    image, truth = generate("idcard_back", BACK_SEED, "clean")
    path = tmp_path_factory.mktemp("tryit") / "idcard_back.jpg"
    image.save(path, quality=92)
    return path, truth


def open_page(page: Page, server: ServeProcess, token: str | None = None) -> None:
    """The page, once it has read the server's /wxocr/about; ``token`` typed in."""
    page.goto(server.base_url + "/")
    expect(page.locator("body[data-ready]")).to_be_attached()
    if token is not None:
        page.fill("#token", token)


def recognise(page: Page, image: Path, endpoint: str = "idcard") -> None:
    """Send ``image`` to ``endpoint`` and wait for the fields table."""
    page.select_option("#endpoint", endpoint)
    page.set_input_files("#file", image)
    page.click("#run")
    expect(page.locator("#fields tr[data-field]").first).to_be_visible(timeout=RECOGNITION)
    expect(page.locator("#error")).to_be_hidden()


def row(page: Page, field: str) -> Locator:
    return page.locator(f'#fields tr[data-field="{field}"]')


def test_an_id_card_front_is_tabled_and_drawn(
    page: Page, token_server: ServeProcess, front: tuple[Path, dict[str, Any]]
) -> None:
    path, truth = front
    open_page(page, token_server, TOKEN)
    recognise(page, path)

    for field in ("name", "id", "addr", "birth", "gender", "nationality"):
        expect(row(page, field).locator("td.name")).to_have_text(field)
        expect(row(page, field).locator("td.value")).to_have_text(truth[field])
    expect(page.locator("#seconds")).to_have_text(re.compile(r"^recognised in \d+\.\d\d s$"))

    # one field box and one label per field with a box; the others marked in the table
    rows: list[tuple[str, str]] = page.locator("#fields tr[data-field]").evaluate_all(
        "rows => rows.map(r => [r.dataset.field, r.querySelector('td.mark').textContent])"
    )
    drawn = [field for field, mark in rows if NOT_DRAWN not in mark]
    assert len(drawn) >= 5, rows
    assert "name" in drawn and "id" in drawn, rows
    assert dict(rows)["type"] == NOT_DRAWN  # read from no line: in the table, not drawn
    expect(page.locator("#drawing svg polygon.field")).to_have_count(len(drawn))
    expect(page.locator("#drawing svg text.field-label")).to_have_count(len(drawn))
    for field in drawn:
        expect(page.locator(f'#drawing polygon.field[data-field="{field}"]')).to_have_count(1)
        label = page.locator(f'#drawing text.field-label[data-field="{field}"]')
        expect(label).to_have_text(field)
    assert page.locator("#drawing svg polygon.line").count() >= 5
    # the boxes are drawn in the image's own pixels, over the image
    with Image.open(path) as image:
        width, height = image.size
    assert page.get_attribute("#drawing svg", "viewBox") == f"0 0 {width} {height}"
    img = page.locator("#drawing img").bounding_box()
    svg = page.locator("#drawing svg").bounding_box()
    assert img is not None and svg is not None
    assert svg == pytest.approx(img, abs=1)
    assert (page.get_attribute("#drawing img", "src") or "").startswith("blob:")


def test_the_naming_toggle_relabels_an_id_card_back(
    page: Page, token_server: ServeProcess, back: tuple[Path, dict[str, Any]]
) -> None:
    path, truth = back
    open_page(page, token_server, TOKEN)
    recognise(page, path)
    valid = row(page, "valid_date")
    label = page.locator('#drawing text.field-label[data-field="valid_date"]')
    expect(valid.locator("td.value")).to_have_text(truth["valid_date"])
    expect(row(page, "authority").locator("td.value")).to_have_text(truth["authority"])
    expect(valid.locator("td.name")).to_have_text("valid_date")
    expect(label).to_have_text("valid_date")
    expect(page.locator("#raw")).to_contain_text('"valid_date"')

    page.check("#naming")
    expect(valid.locator("td.name")).to_have_text("validDate")
    expect(label).to_have_text("validDate")
    expect(page.locator("#raw")).to_contain_text('"validDate"')
    expect(page.locator("#raw")).not_to_contain_text("valid_date")

    page.uncheck("#naming")
    expect(valid.locator("td.name")).to_have_text("valid_date")
    expect(label).to_have_text("valid_date")
    expect(page.locator("#raw")).not_to_contain_text("validDate")


def test_a_wrong_token_is_a_sentence_and_no_table(
    page: Page, token_server: ServeProcess, front: tuple[Path, dict[str, Any]]
) -> None:
    path, _ = front
    open_page(page, token_server)
    expect(page.locator("#token")).to_be_visible()
    expect(page.locator("#token-form")).to_be_hidden()  # this server issues no tokens
    page.fill("#token", "not-the-servers-token")
    page.set_input_files("#file", path)
    page.click("#run")
    error = page.locator("#error")
    expect(error).to_be_visible(timeout=RECOGNITION)
    expect(error).to_have_text(re.compile(r"^The token .*\.$"))
    expect(error).to_have_attribute("role", "alert")
    expect(page.locator("#fields tr[data-field]")).to_have_count(0)
    expect(page.locator("#drawing polygon")).to_have_count(0)


def test_the_page_asks_nothing_of_any_other_host(
    page: Page, token_server: ServeProcess, front: tuple[Path, dict[str, Any]]
) -> None:
    """Every request goes to the server, and nothing breaks the policy or throws (the
    browser reports a request the policy stopped as a console error, not a request)."""
    path, _ = front
    seen: list[str] = []
    errors: list[str] = []

    def record(request: Request) -> None:
        seen.append(request.url)

    def complain(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            errors.append(message.text)

    page.on("request", record)
    page.on("console", complain)
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_page(page, token_server, TOKEN)
    recognise(page, path)
    origin = token_server.base_url + "/"
    strangers = [
        url for url in seen if not url.startswith((origin, "blob:", "data:")) or "@" in url
    ]
    assert not strangers, seen
    assert origin in seen and origin + "wxocr/about" in seen, seen
    inspect = [url for url in seen if url.startswith(origin + "wxocr/inspect/idcard?")]
    assert len(inspect) == 1, seen
    assert f"access_token={TOKEN}" in inspect[0]
    assert page.url == origin  # the token never in the address bar
    assert not errors, errors


def test_the_token_lives_in_session_storage_alone(page: Page, token_server: ServeProcess) -> None:
    open_page(page, token_server, TOKEN)
    assert page.evaluate("sessionStorage.getItem('wxocr-token')") == TOKEN
    stored: list[str] = page.evaluate(
        "Object.keys(localStorage).map(k => k + '=' + localStorage.getItem(k))"
    )
    assert not any(TOKEN in item for item in stored), stored
    assert TOKEN not in page.evaluate("document.cookie")
    assert not page.context.cookies()
    assert TOKEN not in page.url
    # the same tab finds it again after a reload; a new tab (a new session) does not
    page.reload()
    expect(page.locator("body[data-ready]")).to_be_attached()
    expect(page.locator("#token")).to_have_value(TOKEN)
    other = page.context.new_page()
    other.goto(token_server.base_url + "/")
    expect(other.locator("body[data-ready]")).to_be_attached()
    expect(other.locator("#token")).to_have_value("")


def test_an_image_of_2_mb_is_refused_before_sending(
    page: Page, token_server: ServeProcess, tmp_path: Path
) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2 * 1024 * 1024))  # 2 MB and 8 bytes
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    open_page(page, token_server, TOKEN)
    page.set_input_files("#file", big)
    page.click("#run")
    expect(page.locator("#error")).to_contain_text("under 2 MB")
    assert not [url for url in sent if "/wxocr/inspect/" in url], sent


def test_a_pair_server_issues_a_token_to_the_page(
    page: Page, pair_server: ServeProcess, front: tuple[Path, dict[str, Any]]
) -> None:
    path, truth = front
    open_page(page, pair_server)
    expect(page.locator("#token")).to_have_value("")
    page.fill("#appid", APPID)
    page.fill("#secret", SECRET)
    page.click("#get-token")
    token = page.locator("#token")
    expect(token).not_to_have_value("")
    expect(page.locator("#secret")).to_have_value("")  # the secret is not kept
    issued = token.input_value()
    assert page.evaluate("sessionStorage.getItem('wxocr-token')") == issued
    kept: str = page.evaluate("JSON.stringify({...sessionStorage, ...localStorage})")
    assert SECRET not in kept and SECRET not in page.evaluate("document.cookie")
    recognise(page, path)
    expect(row(page, "id").locator("td.value")).to_have_text(truth["id"])


def test_an_open_server_needs_no_token(
    page: Page, open_server: ServeProcess, front: tuple[Path, dict[str, Any]]
) -> None:
    path, truth = front
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    open_page(page, open_server)
    expect(page.locator("#token")).to_be_hidden()
    expect(page.locator("#mode")).to_be_visible()  # the ID card takes photo or scan
    page.select_option("#mode", "scan")
    recognise(page, path)
    expect(row(page, "name").locator("td.value")).to_have_text(truth["name"])
    inspect = [url for url in sent if "/wxocr/inspect/" in url]
    assert len(inspect) == 1 and "access_token" not in inspect[0], sent
    assert "type=scan" in inspect[0]
    page.select_option("#endpoint", "comm")
    expect(page.locator("#mode")).to_be_hidden()  # printed text takes no mode


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (None, "The server could not be reached"),
        ((413, '{"errcode": 40006, "errmsg": "invalid media size"}'), "under 2 MB"),
        ((502, "<html>Bad Gateway</html>"), "HTTP 502"),
        ((200, '{"errcode": 47001, "errmsg": "data format error"}'), "errcode 47001:"),
    ],
)
def test_failures_without_a_message_are_the_pages_own_sentences(
    page: Page,
    token_server: ServeProcess,
    front: tuple[Path, dict[str, Any]],
    answer: tuple[int, str] | None,
    said: str,
) -> None:
    """A plain WeChat reply (no ``message``), a proxy's page, a lost connection: the
    inspect route's answer replaced in the browser."""
    path, _ = front

    def answering(route: Route) -> None:
        if answer is None:
            route.abort("connectionreset")
        else:
            route.fulfill(status=answer[0], body=answer[1], content_type="application/json")

    page.route("**/wxocr/inspect/**", answering)
    open_page(page, token_server, TOKEN)
    page.set_input_files("#file", path)
    page.click("#run")
    expect(page.locator("#error")).to_contain_text(said)
    expect(page.locator("#run")).to_be_enabled()
    expect(page.locator("#fields tr[data-field]")).to_have_count(0)


@pytest.mark.parametrize(
    "answer",
    [
        '{"reply": {"errcode": 0}, "fields": "no list", "lines": [null, 7, {"box": [[0, 0]]}]}',
        '{"reply": {"errcode": 0}, "lines": [], "fields": [null, {"snake": "a", "value": "1",'
        ' "box": [' + ",".join(["[1, 2]"] * 200_000) + "]}]}",
    ],
    ids=["not-lists", "a-box-of-200000-points"],
)
def test_an_answer_of_another_shape_is_shown_as_far_as_it_goes(
    page: Page, token_server: ServeProcess, front: tuple[Path, dict[str, Any]], answer: str
) -> None:
    """Whatever answers in the server's place (a proxy, another version): nothing throws,
    nothing is blamed on the network, what can be shown is."""
    path, _ = front
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(
        "**/wxocr/inspect/**",
        lambda route: route.fulfill(status=200, body=answer, content_type="application/json"),
    )
    open_page(page, token_server, TOKEN)
    page.set_input_files("#file", path)
    page.click("#run")
    expect(page.locator("#run")).to_be_enabled()
    expect(page.locator("#error")).to_be_hidden()
    expect(page.locator("#drawing polygon.field")).to_have_count(0)
    page.check("#naming")  # relabelling what was shown throws nothing either
    assert errors == []
