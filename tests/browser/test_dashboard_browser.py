"""What a person sees: the real dashboard under `streamlit run`, driven by headless Chromium.

Screenshots land in tests/artifacts/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.browser.helpers import CHROMEDRIVER, CHROMIUM, Dashboard, chromium, streamlit_server
from tests.snapshot_factory import DAGSTER_URL, build_snapshot

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
                       reason="needs Debian's chromium and chromium-driver "
                              "(apt-get install chromium chromium-driver)"),
    pytest.mark.skipif(importlib.util.find_spec("selenium") is None,
                       reason="needs selenium (pip install selenium)"),
]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    """The dashboard in demo mode over a factory snapshot with real embeddings."""
    home = tmp_path_factory.mktemp("browser-home")
    build_snapshot(home, embed=True)
    log = tmp_path_factory.mktemp("logs") / "streamlit.log"
    with streamlit_server({"OFFPEAK_HOME": str(home), "OFFPEAK_DEMO_MODE": "1"}, log) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def test_no_snapshot_page(browser, tmp_path):
    with streamlit_server({"OFFPEAK_HOME": str(tmp_path / "empty")}, tmp_path / "log") as url:
        page = Dashboard(browser, url).open().wait_for_text("No night published yet")
        shown = page.text()
        assert "make demo" in shown and "offpeak night" in shown
        page.screenshot("00-no-snapshot")


def test_a_sales_leader_reads_the_briefing(browser, demo_url):
    page = Dashboard(browser, demo_url).open().wait_for_text("Demo mode")
    page.pick_user("Wes Turner")
    shown = page.text()
    assert "Briefing as of" in shown and "data through" in shown
    for headline in ("West revenue by category", "Top 3 West products", "West consumer orders flat"):
        assert headline in shown
    assert shown.index("West revenue by category") < shown.index("Top 3 West products")
    assert "$402,300" in shown and "+3.2% (+$12,400)" in shown
    assert "Technology led the West last month with $182,400" in shown
    assert "Why you see this: You asked this 4 times in the last 30 days" in shown
    assert "East margin" not in shown
    assert page.css('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg')
    assert page.nav_links() == ["Briefing", "Ask"]
    page.screenshot("01-briefing-regional-manager")


def test_ask_hit_refusal_and_hostile_text(browser, demo_url):
    page = Dashboard(browser, demo_url).open().wait_for_text("Demo mode")
    page.pick_user("Wes Turner").go_to("Ask").wait_for_text("Your question")

    page.ask("What was revenue by category last month in the West?", "no live query")
    shown = page.text()
    assert "Answered last night, no live query" in shown and "$402,300" in shown
    page.screenshot("02-ask-hit")

    page.ask("revenue by category last quarter", "No safe match")
    shown = page.text()
    assert "Closest answers, and why they were refused" in shown
    assert "Queued for tonight" in shown
    page.screenshot("03-ask-refused")

    hostile = "<img src=x onerror=alert(1)> **bold** $x$ revenue'; DROP TABLE answers;--"
    page.ask(hostile, f"You asked: {hostile}")
    assert not page.css('img[src="x"]')
    assert not page.driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=stMain] strong')]"
        ".some(s => s.textContent === 'bold')")
    page.screenshot("04-ask-hostile")


def test_an_admin_sees_savings_and_pipeline(browser, demo_url):
    page = Dashboard(browser, demo_url).open().wait_for_text("Demo mode")
    page.pick_user("Ada Admin")
    assert page.nav_links() == ["Briefing", "Ask", "Savings", "Pipeline"]

    page.go_to("Savings").wait_for_text("Live queries avoided")
    shown = page.text()
    assert "226" in shown and "75%" in shown and "159 / 210" in shown
    assert "Net energy saved (estimate)" in shown and "CPU time × a configured wattage" in shown
    assert len(page.css('[data-testid="stVegaLiteChart"]')) == 4
    page.screenshot("05-savings")

    page.go_to("Pipeline").wait_for_text("Last nights' runs")
    shown = page.text()
    assert "success" in shown and "Next scheduled window" in shown
    assert "Unmapped questions" in shown and "Quarantined rows" in shown
    link = page.css('[data-testid="stLinkButton"] a')[0]
    assert link.get_attribute("href").rstrip("/") == DAGSTER_URL
    page.screenshot("06-pipeline")
