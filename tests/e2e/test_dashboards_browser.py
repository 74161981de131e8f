"""Every dashboard page in a real browser: Streamlit serves the app on the warehouse the whole graph
published, Debian's headless Chromium loads each page over the DevTools protocol, and the page must render
its title and its tiles without an error. Screenshots are kept in the test's temporary folder.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

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
def _streamlit(data_dir: Path, log: Path) -> Iterator[str]:
    port = _free_port()
    env = os.environ | {"LAKEHOUSE_DATA_DIR": str(data_dir)}
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
    ]
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
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
    with _streamlit(built[0].data_dir, log) as base:
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
