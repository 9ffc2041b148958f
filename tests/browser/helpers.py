"""Run the dashboard with `streamlit run` on a loopback port and drive Debian's Chromium at it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboard" / "app.py"
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(env: dict[str, str], log: Path, timeout: float = 60) -> Iterator[str]:
    """Start ``streamlit run dashboard/app.py`` with ``env`` added; yield its URL once healthy."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
               "--client.toolbarMode", "viewer"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env},
                                   stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process, log, timeout)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not answer {url}/_stcore/health in {timeout} s:\n{log.read_text()}")


@contextmanager
def chromium(profile: Path, width: int = 1400, height: int = 1000):
    """A headless Chromium driven through Debian's chromedriver (Selenium Manager never runs)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


class Dashboard:
    """What a person does with the dashboard in a browser, and what they see."""

    def __init__(self, driver, url: str, timeout: float = 120) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.url = url
        self.wait = WebDriverWait(driver, timeout, poll_frequency=0.2)

    def open(self, path: str = "") -> "Dashboard":
        self.driver.get(f"{self.url}/{path}")
        return self.settled()

    def settled(self) -> "Dashboard":
        """Wait until the app has rendered and no script run is in progress."""
        from selenium.webdriver.common.by import By

        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stMain"]'))
        time.sleep(0.3)
        self.wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'))
        return self

    def text(self) -> str:
        """Everything visible on the page, as the browser lays it out."""
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.TAG_NAME, "body").text

    def wait_for_text(self, text: str) -> "Dashboard":
        """Wait for ``text`` to be visible; on timeout keep a screenshot of what was there."""
        from selenium.common.exceptions import TimeoutException

        try:
            self.wait.until(lambda d: text in self.text(), f"waiting for {text!r}")
        except TimeoutException:
            self.screenshot("timeout")
            raise
        return self.settled()

    def css(self, selector: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def nav_links(self) -> list[str]:
        """The page names in the sidebar navigation (after each link's icon)."""
        return [a.text.splitlines()[-1] for a in self.css('[data-testid="stSidebarNav"] a')]

    def go_to(self, page: str) -> "Dashboard":
        """Click a page in the sidebar navigation."""
        link = next(a for a in self.css('[data-testid="stSidebarNav"] a')
                    if a.text.splitlines()[-1] == page)
        link.click()
        return self.settled()

    def pick_user(self, name: str) -> "Dashboard":
        """Choose who to view as in the demo picker."""
        from selenium.webdriver.common.by import By

        self.css('[data-testid="stSidebar"] [data-testid="stSelectbox"] input[role="combobox"]')[0].click()
        option = self.wait.until(lambda d: next(
            (o for o in d.find_elements(By.CSS_SELECTOR, '[role="option"]') if name in o.text), None))
        option.click()
        return self.wait_for_text(f"Good morning, {name.split()[0]}")

    def ask(self, question: str, expect: str) -> "Dashboard":
        """Type a question into the Ask box, press Ask, and wait for ``expect`` to appear."""
        from selenium.webdriver.common.keys import Keys

        box = self.css('[data-testid="stTextInput"] input')[0]
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
        box.send_keys(question)
        self.css('[data-testid="stFormSubmitButton"] button')[0].click()
        return self.wait_for_text(expect)

    def screenshot(self, name: str) -> Path:
        """Save the whole page (the window grown to fit it) to tests/artifacts/NAME.png."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        size = self.driver.get_window_size()
        needed = self.driver.execute_script(
            "const main = document.querySelector('[data-testid=stMain]');"
            "return Math.max(document.body.scrollHeight, main ? main.scrollHeight : 0);")
        self.driver.set_window_size(size["width"], min(max(needed + 80, size["height"]), 6000))
        time.sleep(0.8)  # let charts lay themselves out at the new size
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(size["width"], size["height"])
        return path
