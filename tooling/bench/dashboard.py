"""The dashboard in Debian's Chromium: from pressing Load to a year of one station drawn."""

from __future__ import annotations

import statistics
import time
from typing import Any

from tooling.bench.historical import YEAR_STATION
from tooling.browser import CHROMIUM, launch_options
from tooling.simulator.weather import SENSORS


async def year_in_browser(api: str, token: str, runs: int = 5) -> dict[str, Any]:
    """Click **Load** on the 1-year preset, all 8 sensors, until the chart is drawn; ``runs`` times.

    Each run presses the preset again, so its range ends at a new instant and a
    new job runs (no reuse of the previous result).
    """
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} is not installed (make test installs it)"}
    from playwright.async_api import async_playwright, expect  # a test dependency

    times: list[float] = []
    points = 0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**launch_options())
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            await page.goto(api + "/")
            await page.get_by_test_id("token-input").fill(token)
            await page.get_by_test_id("sign-in").click()
            await page.locator(f'[data-station-id="{YEAR_STATION}"]').click()
            await page.get_by_test_id("mode-history").click()
            for sensor in SENSORS:
                await page.get_by_test_id(f"sensor-{sensor}").check()
            status = page.get_by_test_id("job-status")
            for _ in range(runs):
                await page.get_by_test_id("range-1y").click()
                started = time.perf_counter()
                await page.get_by_test_id("load-history").click()
                await expect(status).to_contain_text("points drawn", timeout=60_000)
                times.append((time.perf_counter() - started) * 1000)
                chart = page.get_by_test_id("chart")
                points = int(await chart.get_attribute("data-point-count") or 0)
        finally:
            await browser.close()
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "points_drawn": points,
        "sensors": len(SENSORS),
    }
