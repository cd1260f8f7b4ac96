"""The app in a real headless Chromium: a `streamlit run app.py` server per test session, Playwright pages.

Skipped, with the reason, where Chromium or Playwright is missing, except under CI=true, where
`.ci/run` installs both and a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Server logs and the screenshots taken when a step fails: in the temporary folder, never in the repo, kept after
# the run to be looked at (the path is printed at the end of the run).
ARTIFACTS = Path(tempfile.gettempdir()) / f"training-studio-e2e-{os.getpid()}"
SCREENSHOTS = ARTIFACTS / "screenshots"
# The app has finished a script run (and so drawn the page) when its root says so.
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
SERVER_START_SECONDS = 60
# Short enough that the closed-tab test runs in seconds, long enough to ride out a page switch.
TEST_ORPHAN_SECONDS = "3"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def pytest_terminal_summary(terminalreporter):
    if ARTIFACTS.exists():
        terminalreporter.write_line(f"e2e server logs and screenshots: {ARTIFACTS}")


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed at {CHROMIUM} (sudo apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    missing = _missing_browser()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{missing}: CI must run the browser tests (.ci/run installs Chromium).")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Server:
    """A running `streamlit run app.py`: its address and process."""

    url: str
    process: subprocess.Popen
    started: float
    ready_seconds: float

    def page_url(self, path: str = "") -> str:
        return f"{self.url}/{path}"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(log_path: Path, script: str = "app.py", **env: str) -> Server:
    """Start the app (or another Streamlit script) on a free loopback port; wait for its health check."""
    port = free_port()
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    log = log_path.open("w")
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = started + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {process.returncode}; see {log_path}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
            if answer.status == 200:
                return Server(url, process, started, time.monotonic() - started)
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"streamlit did not answer on {url} within {SERVER_START_SECONDS} s; see {log_path}")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def server(browser, artifacts, tmp_path_factory):
    """One app server for the browser tests; an empty KERAS_HOME, so MNIST falls back to digits."""
    keras_home = tmp_path_factory.mktemp("keras_home")
    app = start_server(
        artifacts.parent / "streamlit.log",
        KERAS_HOME=str(keras_home),
        # Finished runs are saved: into this test session's folder, not the user's cache.
        TRAINING_STUDIO_RUNS_DIR=str(tmp_path_factory.mktemp("runs")),
        TRAINING_STUDIO_ORPHAN_SECONDS=TEST_ORPHAN_SECONDS,
        TRAINING_STUDIO_MAX_CONCURRENT="1",
    )
    yield app
    stop_server(app.process)


@pytest.fixture
def new_screen(browser):
    """Opens a screen (a browser context and its page: its own Streamlit session) of the given size; all of
    them close when the test ends, passed or failed."""
    contexts = []

    def open_screen(options: dict):
        contexts.append(browser.new_context(**options))
        return contexts[-1].new_page()

    yield open_screen
    for context in contexts:
        context.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser session (its own Streamlit session) on the app."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()
