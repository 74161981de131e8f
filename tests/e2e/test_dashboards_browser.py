"""Every dashboard page in a real browser: Streamlit serves the app on the warehouse the whole graph
published, Debian's headless Chromium loads each page over the DevTools protocol, and the page must render
its title and its tiles without an error. Screenshots are kept in the test's temporary folder.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from websockets.sync.client import connect

from dashboards.registry import PAGES
from lakehouse.metrics_catalog import metrics_for_page
from lakehouse.settings import PROJECT_ROOT
from orchestration.dbt.project import dbt_project

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
APP = PROJECT_ROOT / "dashboards" / "app.py"
TIMEOUT = 90.0
# What is on screen once the script has finished, and whether Streamlit drew an exception or an error.
PAGE_STATE_JS = """
(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  return {
    state: app ? app.getAttribute('data-test-script-state') : null,
    title: document.title,
    headings: [...main.querySelectorAll('h1')].map(h => h.innerText.trim()),
    text: main.innerText,
    exceptions: document.querySelectorAll('[data-testid="stException"]').length,
    errors: [...document.querySelectorAll('[data-testid="stAlertContentError"]')].map(e => e.innerText),
    dialogs: [...document.querySelectorAll('[role="dialog"]')].map(d => d.innerText),
    skeletons: document.querySelectorAll('[data-testid="stSkeleton"]').length,
    charts_drawing: [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
      .filter(chart => !chart.querySelector('canvas, svg')).length,
  };
})()
"""
SCROLL_HEIGHT_JS = """
Math.max(document.body.scrollHeight,
         ...[...document.querySelectorAll('[data-testid="stMain"] *')].map(e => e.scrollHeight))
"""
WIDTH, HEIGHT = 1400, 1000
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _exposures() -> dict[str, dict]:
    manifest = json.loads(dbt_project.manifest_path.read_text())
    return {
        exposure["config"]["meta"]["page"]: exposure
        for exposure in manifest["exposures"].values()
        if exposure["type"] == "dashboard"
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(condition, what: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode()
    except OSError:
        return None


@contextmanager
def _streamlit(
    env: Mapping[str, str], log: Path, port: int | None = None, options: Sequence[str] = ()
) -> Iterator[str]:
    port = port or _free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        *options,
    ]
    with log.open("w") as output:
        server = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=os.environ | dict(env), stdout=output, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(lambda: server.poll() is not None or _get(f"{base}/_stcore/health") == "ok", "Streamlit")
        assert server.poll() is None, f"Streamlit exited: {log.read_text()[-2000:]}"
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


class DevTools:
    """The few Chrome DevTools Protocol commands the test needs, over one page's websocket."""

    def __init__(self, url: str) -> None:
        self.socket = connect(url, max_size=None, open_timeout=30)
        self.next_id = 0

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:  # events arrive in between; only the answer to this call matters
            message = json.loads(self.socket.recv(timeout=TIMEOUT))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str) -> object:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def close(self) -> None:
        self.socket.close()


@contextmanager
def _chromium(profile: Path) -> Iterator[DevTools]:
    browser = subprocess.Popen(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",  # tests run as root in containers
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        active = profile / "DevToolsActivePort"
        _wait_for(lambda: active.exists() and len(active.read_text().splitlines()) == 2, "Chromium")
        port = active.read_text().splitlines()[0]
        targets = json.loads(_wait_for(lambda: _get(f"http://127.0.0.1:{port}/json/list"), "a tab"))
        page = next(target for target in targets if target["type"] == "page")
        devtools = DevTools(page["webSocketDebuggerUrl"])
        try:
            devtools.call("Page.enable")
            yield devtools
        finally:
            devtools.close()
    finally:
        browser.terminate()
        browser.wait(timeout=30)


def _rendered(devtools: DevTools) -> dict:
    """The page once the script has run to the end and the screen stopped changing."""
    last: dict = {}

    def settled() -> dict | None:
        nonlocal last
        now = devtools.evaluate(PAGE_STATE_JS)
        done = (
            now
            and now["state"] == "notRunning"
            and not now["skeletons"]
            and not now["charts_drawing"]
            and now["text"].strip()
        )
        stable = done and now == last
        last = now or {}
        return now if stable else None

    return _wait_for(settled, "the page to render")


def _screenshot(devtools: DevTools) -> bytes:
    """The whole page: Streamlit scrolls inside its main block, so the window grows to its height first."""
    height = devtools.evaluate(SCROLL_HEIGHT_JS)
    devtools.call(
        "Emulation.setDeviceMetricsOverride",
        width=WIDTH,
        height=min(int(height), 16000),
        deviceScaleFactor=1,
        mobile=False,
    )
    try:
        _rendered(devtools)  # charts redraw at the new size
        return base64.b64decode(devtools.call("Page.captureScreenshot", format="png")["data"])
    finally:
        devtools.call("Emulation.clearDeviceMetricsOverride")


@pytest.fixture(scope="module")
def app(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with _streamlit({"LAKEHOUSE_DATA_DIR": str(built[0].data_dir)}, log) as base:
        yield base


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    with _chromium(tmp_path_factory.mktemp("chromium")) as devtools:
        yield devtools


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\ndashboard screenshots: {folder}")
    return folder


def test_the_pages_are_the_dashboard_exposures() -> None:
    assert sorted(PAGES) == sorted(_exposures())


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_its_title_and_tiles_without_errors(page: str, app, browser, screenshots) -> None:
    exposure = _exposures()[page]
    path = urlparse(exposure["url"]).path  # where dbt's docs say the page lives
    browser.call("Page.navigate", url=app + path)
    shown = _rendered(browser)

    (screenshots / f"{page}.png").write_bytes(_screenshot(browser))

    assert shown["exceptions"] == 0, shown["text"][:2000]
    assert shown["errors"] == []
    assert shown["dialogs"] == []  # e.g. Streamlit's "Page not found" for a URL no page has
    assert "Traceback" not in shown["text"]
    assert not EXCEPTION_NAME.search(shown["text"]), EXCEPTION_NAME.search(shown["text"])
    title = exposure["label"].removeprefix("Dashboard:").strip().lower()
    assert any(title in heading.lower() for heading in shown["headings"]), (title, shown["headings"])
    labels = [metric.label for metric in metrics_for_page(page)]
    assert any(label in shown["text"] for label in labels), f"none of {labels} on {page}"
    assert not EMAIL.search(shown["text"]), "a page shows an email address"


class _IdentityProvider(BaseHTTPRequestHandler):
    """Stands in for the organisation's OpenID Connect provider up to the login page: its discovery
    document, and an authorization endpoint that only says where the visitor arrived."""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        issuer = f"http://127.0.0.1:{self.server.server_port}"
        if self.path == "/.well-known/openid-configuration":
            body = json.dumps(
                {
                    "issuer": issuer,
                    "authorization_endpoint": f"{issuer}/authorize",
                    "token_endpoint": f"{issuer}/token",
                    "jwks_uri": f"{issuer}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            ).encode()
            kind = "application/json"
        else:
            body, kind = b"<html><body>identity provider login</body></html>", "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _identity_provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _IdentityProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_with_login_configured_a_visitor_signs_in_at_the_identity_provider(browser, tmp_path: Path) -> None:
    with _identity_provider() as issuer:
        port = _free_port()
        env = {
            "LAKEHOUSE_DATA_DIR": str(tmp_path / "data"),
            "LAKEHOUSE_DASHBOARD_AUTH_CLIENT_ID": "lakehouse-dashboards",
            "LAKEHOUSE_DASHBOARD_AUTH_CLIENT_SECRET": secrets.token_urlsafe(16),
            "LAKEHOUSE_DASHBOARD_AUTH_SERVER_METADATA_URL": f"{issuer}/.well-known/openid-configuration",
            "LAKEHOUSE_DASHBOARD_AUTH_REDIRECT_URI": f"http://127.0.0.1:{port}/oauth2callback",
            "LAKEHOUSE_DASHBOARD_AUTH_COOKIE_SECRET": secrets.token_urlsafe(32),
        }
        # As `make dashboards` does it: the secrets file from the settings, handed to Streamlit.
        written = subprocess.run(
            [sys.executable, "-m", "lakehouse.streamlit_auth"],
            env=os.environ | env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        options = [f"--secrets.files={written}"]
        with _streamlit(env, tmp_path / "streamlit.log", port, options) as app:
            browser.call("Page.navigate", url=app + "/")
            shown = _rendered(browser)
            assert "Log in" in shown["text"]
            assert not any(label in shown["text"] for label in ("MRR", "ARR", "Generations"))
            browser.evaluate(
                "[...document.querySelectorAll('button')].find(b => b.innerText.includes('Log in')).click()"
            )
            arrived = _wait_for(
                lambda: (href := browser.evaluate("location.href")).startswith(issuer) and href,
                "the identity provider's login page",
            )
    asked = urlparse(arrived)
    query = parse_qs(asked.query)
    assert asked.path == "/authorize"
    assert query["client_id"] == ["lakehouse-dashboards"]
    assert query["redirect_uri"] == [env["LAKEHOUSE_DASHBOARD_AUTH_REDIRECT_URI"]]
    assert query["response_type"] == ["code"]
    assert "openid" in query["scope"][0].split()
