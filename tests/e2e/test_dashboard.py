"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the real
API, workers, gateway, stream processors, Kafka and TimescaleDB. Each test writes a
screenshot of every state it reaches into its temporary directory.
"""

from __future__ import annotations

import asyncio
import math
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from playwright.async_api import Browser, Page, expect

from historical_service.users import create_user
from schemas.readings import Reading, StationReadingsAccepted
from tests.backends import Backends
from tests.history import historical_settings, new_user, running_historical, store
from tests.pipeline import make_token, running_gateway, running_sink
from tooling.simulator.client import Poster, live


@dataclass
class Site:
    url: str
    api: httpx.AsyncClient
    shots: Path

    async def shot(self, page: Page, name: str) -> None:
        await page.screenshot(path=self.shots / f"{name}.png", full_page=True)


@pytest.fixture
async def site(
    backends: Backends, database_url: str, unique: str, tmp_path: Path
) -> AsyncIterator[Site]:
    settings = historical_settings(
        backends.kafka_bootstrap, database_url, unique, tmp_path / "results"
    )
    built = settings.effective_dashboard_dir / "index.html"
    if not built.exists():
        pytest.fail(f"{built} is missing: `make dashboard` builds it (make test does)")
    async with running_historical(settings) as api:
        yield Site(settings.public_url, api, tmp_path)


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        await context.close()
    assert not errors, f"the page raised: {errors}"


async def _sign_in(page: Page, site: Site, token: str) -> None:
    await page.goto(site.url + "/")
    await page.get_by_test_id("token-input").fill(token)
    await page.get_by_test_id("sign-in").click()


async def _open_history(page: Page, station: str, preset: str) -> None:
    """From the signed-in page: the station, history mode, a range preset."""
    await page.locator(f'[data-station-id="{station}"]').click()
    await page.get_by_test_id("mode-history").click()
    await page.get_by_test_id(preset).click()


async def _record_statuses(page: Page) -> None:
    """Keep every text the job-status element shows, however briefly, in ``window.seen``."""
    await page.evaluate(
        """() => {
            const el = document.querySelector('[data-testid="job-status"]');
            window.seen = [];
            new MutationObserver(() => window.seen.push(
                [el.textContent, el.parentElement.hidden,
                 document.querySelector('[data-testid="progress"]').getAttribute('aria-valuenow')]
            )).observe(el, {childList: true, characterData: true, subtree: true});
        }"""
    )


def _every_10_minutes(start: datetime, end: datetime) -> list[tuple[datetime, Any]]:
    first = start.replace(second=0, microsecond=0, minute=start.minute - start.minute % 10)
    count = int((end - first) / timedelta(minutes=10))
    return [
        (
            first + timedelta(minutes=10 * i),
            {"temperature": 25 + 5 * math.sin(i / 72 * math.pi), "rain": float(i % 5 == 0)},
        )
        for i in range(count)
    ]


async def test_thirty_days_load_in_the_background_with_progress_and_draw_every_bucket(
    site: Site, page: Page, database_url: str, unique: str
) -> None:
    station = f"{unique}-30d"
    now = datetime.now(UTC)
    readings = _every_10_minutes(now - timedelta(days=29, hours=12), now - timedelta(hours=1))
    await store(database_url, station, readings)
    _, token = await new_user(database_url, [station, f"{unique}-quiet"])

    await _sign_in(page, site, token)
    item = page.locator(f'[data-station-id="{station}"]')
    await expect(item).to_be_visible()
    await expect(item).to_contain_text("ago")  # its last-seen time
    await expect(page.locator(f'[data-station-id="{unique}-quiet"]')).to_have_attribute(
        "data-health", "no_data"
    )
    await _open_history(page, station, "range-30d")
    await _record_statuses(page)
    await page.get_by_test_id("load-history").click()
    await expect(page.get_by_test_id("progress")).to_be_visible()
    await site.shot(page, "1-loading")
    await expect(page.get_by_test_id("job-status")).to_contain_text("completed", timeout=20_000)
    await expect(page.get_by_test_id("job-status")).to_contain_text("points drawn")
    await site.shot(page, "2-drawn")

    # ``auto`` over 30 days reads 30-minute buckets: one point per bucket holding a reading.
    expected = len({int(ts.timestamp()) // 1800 for ts, _ in readings})
    chart = page.get_by_test_id("chart")
    assert await chart.get_attribute("data-point-count") == str(expected)
    assert await chart.get_attribute("data-mode") == "history"
    seen: list[list[Any]] = await page.evaluate("() => window.seen")
    words = [text.split(":")[0] for text, _, _ in seen]
    assert "completed" in words
    before = words[: words.index("completed")]
    assert {"queued", "running"} & set(before), f"no progress shown before completion: {seen}"
    assert all(not hidden for _, hidden, _ in seen), "the progress area was hidden while loading"
    assert await page.get_by_test_id("progress").get_attribute("aria-valuenow") == "100"


async def test_each_sensor_is_drawn_as_its_kind_with_its_unit(
    site: Site, page: Page, database_url: str, unique: str
) -> None:
    """A day of rain, wind direction around north and temperature: rain is summed per
    bucket and drawn as bars, the direction is vector-averaged and drawn as points (no
    band across north), temperature keeps its mean and band; every label has the unit,
    and a temperature outside its valid range is flagged on the raw chart."""
    station = f"{unique}-kinds"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    readings = [
        (
            now - timedelta(hours=20) + timedelta(seconds=30 * i),
            {"rain": 0.2, "wind_direction": 350.0 if i % 2 else 20.0, "temperature": 25.0},
        )
        for i in range(240)  # two hours, two readings a minute
    ]
    readings.append((now - timedelta(minutes=5), {"temperature": 99.0}))  # over its 60 °C
    await store(database_url, station, readings)
    _, token = await new_user(database_url, [station])

    await _sign_in(page, site, token)
    await page.locator(f'[data-station-id="{station}"]').click()
    sensors = page.get_by_test_id("sensors")
    await expect(sensors).to_contain_text("Rainfall (mm)")
    await expect(sensors).to_contain_text("Wind direction (°)")
    for sensor in ("rain", "wind_direction"):
        await page.get_by_test_id(f"sensor-{sensor}").check()
    await page.get_by_test_id("mode-history").click()
    await page.get_by_test_id("range-1d").click()
    await page.get_by_test_id("load-history").click()
    await expect(page.get_by_test_id("job-status")).to_contain_text("points drawn", timeout=20_000)
    chart = page.get_by_test_id("chart")
    styles = {
        sensor: await chart.locator(f'.panel[data-sensor="{sensor}"]').get_attribute("data-style")
        for sensor in ("rain", "wind_direction", "temperature")
    }
    assert styles == {"rain": "bars", "wind_direction": "points", "temperature": "line"}
    rain = chart.locator('.panel[data-sensor="rain"]')
    wind = chart.locator('.panel[data-sensor="wind_direction"]')
    await expect(rain).to_contain_text("Rainfall (mm)")
    await expect(wind.locator(".u-legend")).not_to_contain_text("min")  # no band over north
    # The cursor on the middle of the data (19 h ago, on an axis of the whole day asked
    # for): a minute holds 0.2 mm twice, and 20° and 350°, so the bar is 0.4 mm and the
    # direction 5° (the arithmetic mean would say 185°).
    box = await wind.locator(".u-over").bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] * 5 / 24, box["y"] + box["height"] / 2)
    # The legend's value cells: [time, the series]; exactly, so 185 ° cannot pass as 5 °.
    await expect(wind.locator(".u-legend .u-value").nth(1)).to_have_text("5 °")
    await expect(rain.locator(".u-legend .u-value").nth(1)).to_have_text("0.4 mm")
    await site.shot(page, "1-kinds")

    await page.get_by_test_id("mode-live").click()
    live = page.get_by_test_id("chart")
    await expect(live).to_have_attribute("data-flagged-count", "1", timeout=15_000)
    await site.shot(page, "2-flagged")


async def test_stations_at_a_glance_counts_states_and_puts_silent_ones_first(
    site: Site, page: Page, database_url: str, unique: str
) -> None:
    """Counts of live, late, silent and never-heard stations; silent ones sorted to the
    top on request, filtered by state; a silent station's live chart says when it last
    spoke; a filter matching nothing says so."""
    now = datetime.now(UTC)
    live, late, silent = f"{unique}-a-live", f"{unique}-b-late", f"{unique}-c-silent"
    never = f"{unique}-d-never"
    await store(database_url, live, [(now - timedelta(seconds=20), {"temperature": 20.0})])
    await store(database_url, late, [(now - timedelta(minutes=10), {"temperature": 20.0})])
    await store(database_url, silent, [(now - timedelta(hours=3), {"temperature": 20.0})])
    _, token = await new_user(database_url, [live, late, silent, never])

    await _sign_in(page, site, token)
    for state, n in (("live", 1), ("late", 1), ("silent", 1), ("no_data", 1)):
        await expect(page.get_by_test_id(f"state-{state}")).to_contain_text(f"{n} ")
    items = page.get_by_test_id("station-item")
    await expect(items.first).to_have_attribute("data-station-id", live)
    await page.get_by_test_id("station-sort").select_option("trouble")
    await expect(items.first).to_have_attribute("data-station-id", silent)
    await page.get_by_test_id("state-silent").click()
    await expect(page.locator('[data-testid="station-item"]:visible')).to_have_count(1)
    await site.shot(page, "1-silent-first")
    await page.locator(f'[data-station-id="{silent}"]').click()
    await expect(page.get_by_test_id("chart")).to_contain_text("the last one was 3 h ago")
    await page.get_by_test_id("state-silent").click()  # all states again
    await page.get_by_test_id("station-filter").fill("nothing-like-this")
    await expect(page.locator("#stations-note")).to_contain_text(
        "No station matches “nothing-like-this”"
    )
    await site.shot(page, "2-no-match")


async def test_no_screen_outlives_what_it_showed(
    site: Site, page: Page, database_url: str, unique: str
) -> None:
    """Each transition leaves a screen that matches it: no sensors, no chart; Live and
    back, no old status or Download; a bad range, no old status under the error; a typed
    range, no preset lit; a drag on the chart, the range it selected loaded again."""
    station = f"{unique}-stale"
    now = datetime.now(UTC)
    await store(database_url, station, _every_10_minutes(now - timedelta(days=6), now))
    _, token = await new_user(database_url, [station])
    await _sign_in(page, site, token)
    await _open_history(page, station, "range-7d")
    status, chart = page.get_by_test_id("job-status"), page.get_by_test_id("chart")
    await page.get_by_test_id("load-history").click()
    await expect(status).to_contain_text("points drawn", timeout=20_000)
    assert await page.get_by_test_id("progress").get_attribute("aria-valuenow") == "100"
    await expect(page.get_by_test_id("download")).to_be_visible()

    await page.get_by_test_id("mode-live").click()
    await page.get_by_test_id("mode-history").click()
    await expect(page.locator("#job")).to_be_hidden()  # no status, no Download of before
    await expect(chart).to_contain_text("Pick a range and press Load")

    await page.get_by_test_id("load-history").click()
    await expect(status).to_contain_text("points drawn", timeout=20_000)
    first = await page.get_by_test_id("range-start").input_value()
    # A drag across the middle of the chart: From and To become what it covers, no preset
    # stays lit, and the narrower range is loaded (finer buckets: more points per day).
    box = await chart.locator(".panel .u-over").first.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    await page.mouse.move(box["x"] + box["width"] * 0.4, y)
    await page.mouse.down()
    await page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    await page.mouse.up()
    await expect(page.get_by_test_id("range-start")).not_to_have_value(first)
    await expect(page.get_by_test_id("range-7d")).not_to_have_class(re.compile("active"))
    await expect(status).to_contain_text("points drawn", timeout=20_000)
    await site.shot(page, "1-zoomed")

    await page.get_by_test_id("sensor-temperature").uncheck()
    await expect(chart).to_contain_text("Choose at least one sensor")
    await expect(page.locator("#job")).to_be_hidden()
    await page.get_by_test_id("sensor-temperature").check()

    await page.get_by_test_id("range-end").fill("2020-01-01T00:00:00")  # before From
    await page.get_by_test_id("load-history").click()
    await expect(page.get_by_test_id("error")).to_contain_text("must start before it ends")
    await expect(page.locator("#job")).to_be_hidden()
    await site.shot(page, "2-range-error")


async def test_a_phone_sees_the_whole_page(
    site: Site, browser: Browser, database_url: str, unique: str
) -> None:
    """At 390 x 844 the station list is a drawer that closes once a station is picked,
    and the chart, the tabs, Load, Cancel and Download all fit the screen's width."""
    station = f"{unique}-phone"
    now = datetime.now(UTC)
    await store(database_url, station, _every_10_minutes(now - timedelta(days=2), now))
    _, token = await new_user(database_url, [station, f"{unique}-other"])
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await context.new_page()
    try:
        await _sign_in(page, site, token)
        toggle = page.get_by_test_id("stations-toggle")
        await expect(toggle).to_be_visible()
        await page.locator(f'[data-station-id="{station}"]').click()
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await expect(page.get_by_test_id("station-list")).to_be_hidden()
        await page.get_by_test_id("mode-history").click()
        await page.get_by_test_id("range-1d").click()
        await page.get_by_test_id("load-history").click()
        await expect(page.get_by_test_id("job-status")).to_contain_text(
            "points drawn", timeout=20_000
        )
        await site.shot(page, "phone-history")
        for testid in ("chart", "mode-live", "mode-history", "load-history", "cancel", "download"):
            box = await page.get_by_test_id(testid).bounding_box()
            assert box is not None, testid
            assert box["x"] >= 0, testid
            assert box["x"] + box["width"] <= 390 + 0.5, f"{testid} runs off the screen: {box}"
        overflow = await page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= 390, f"the page scrolls sideways: {overflow} px wide"
        await toggle.click()
        await expect(page.get_by_test_id("station-list")).to_be_visible()
        await site.shot(page, "phone-drawer")
    finally:
        await context.close()


AXE = Path(__file__).resolve().parents[2] / "dashboard/node_modules/axe-core/axe.min.js"


async def _serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make dashboard` installs axe-core (a devDependency)")
    await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}))"""
    )
    return found


async def test_keyboard_and_screen_readers_find_their_way(
    site: Site, browser: Browser, database_url: str, unique: str
) -> None:
    """Focus lands on the work after sign-in and survives the list's refresh, the tabs
    move with the arrow keys, the progress bar and the chart have names, and axe-core
    finds nothing serious on the sign-in page, the live view or a drawn history."""
    station = f"{unique}-a11y"
    now = datetime.now(UTC)
    await store(database_url, station, _every_10_minutes(now - timedelta(days=1), now))
    await store(database_url, station, [(now - timedelta(seconds=30), {"temperature": 21.0})])
    _, token = await new_user(database_url, [station, f"{unique}-other"])
    # The page's CSP (script-src 'self') refuses injected scripts: axe-core runs in a
    # context that bypasses it, the page itself unchanged.
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
    page = await context.new_page()
    try:
        await _check_a11y(site, page, token, station)
    finally:
        await context.close()


async def _check_a11y(site: Site, page: Page, token: str, station: str) -> None:
    await page.goto(site.url + "/")
    assert await _serious_violations(page) == []
    await page.get_by_test_id("token-input").fill(token)
    await page.get_by_test_id("sign-in").click()
    await expect(page.get_by_test_id("station-filter")).to_be_focused()
    item = page.locator(f'[data-station-id="{station}"]')
    await item.focus()
    stations = page.get_by_test_id("station-list")
    before = await stations.get_attribute("data-refreshes")
    await expect(stations).not_to_have_attribute(
        "data-refreshes", before or "0", timeout=10_000
    )  # the list refreshes every 5 s
    await expect(page.locator(f'[data-station-id="{station}"]')).to_be_focused()
    await page.keyboard.press("ArrowDown")  # the other station, then back
    other = page.locator(f'[data-station-id="{station.removesuffix("-a11y")}-other"]')
    await expect(other).to_be_focused()
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("Enter")
    await expect(item).to_have_attribute("aria-selected", "true")
    await page.get_by_test_id("mode-live").focus()
    await page.keyboard.press("ArrowRight")
    await expect(page.get_by_test_id("mode-history")).to_be_focused()
    await expect(page.get_by_test_id("mode-history")).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("ArrowLeft")
    await expect(page.get_by_test_id("mode-live")).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_test_id("chart")).to_have_attribute(
        "aria-label", re.compile("Live chart of Air temperature")
    )
    assert await _serious_violations(page) == []
    await page.get_by_test_id("mode-history").click()
    await page.get_by_test_id("range-1d").click()
    await page.get_by_test_id("load-history").click()
    await expect(page.get_by_test_id("job-status")).to_contain_text("points drawn", timeout=20_000)
    progress = page.get_by_test_id("progress")
    await expect(progress).to_have_attribute("aria-label", "History job progress")
    await expect(page.get_by_test_id("chart")).to_have_attribute(
        "aria-label", re.compile(r"History chart of Air temperature \(°C\) from .*: \d+ points")
    )
    assert await _serious_violations(page) == []
    await site.shot(page, "1-a11y-history")


async def test_every_time_is_in_the_users_zone_and_says_so(
    site: Site, browser: Browser, database_url: str, unique: str
) -> None:
    """A user whose display zone is Asia/Jakarta, in a browser set to New York with an
    Indonesian locale: the header names the zone and its offset, From and To hold Jakarta
    wall time, and the station's last-seen tooltip is Jakarta's clock, not New York's."""
    station = f"{unique}-tz"
    seen = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    await store(database_url, station, [(seen, {"temperature": 27.0})])
    conn = await asyncpg.connect(database_url)
    try:
        _, token = await create_user(
            conn, name=f"{unique}-tz", org_id="org", stations=[station], time_zone="Asia/Jakarta"
        )
    finally:
        await conn.close()
    context = await browser.new_context(
        viewport={"width": 1400, "height": 900}, locale="id-ID", timezone_id="America/New_York"
    )
    page = await context.new_page()
    try:
        await _sign_in(page, site, token)
        await expect(page.get_by_test_id("zone")).to_contain_text("Asia/Jakarta (UTC+07:00)")
        jakarta = ZoneInfo("Asia/Jakarta")
        item = page.locator(f'[data-station-id="{station}"]')
        title = await item.locator(".seen").get_attribute("title")
        assert title is not None
        wall = seen.astimezone(jakarta)
        assert f"{wall:%H}.{wall:%M}" in title, title  # id-ID writes 20.24.25
        await item.click()
        await page.get_by_test_id("mode-history").click()
        await page.get_by_test_id("range-1d").click()
        end = await page.get_by_test_id("range-end").input_value()
        shown = datetime.fromisoformat(end).replace(tzinfo=jakarta)
        assert abs(shown - datetime.now(UTC)) < timedelta(minutes=2), end
        await expect(page.get_by_test_id("range-zone")).to_contain_text("Asia/Jakarta")
        await site.shot(page, "1-jakarta")
    finally:
        await context.close()


async def test_cancelling_a_long_load_shows_cancelled(
    site: Site, page: Page, database_url: str, unique: str
) -> None:
    station = f"{unique}-long"
    now = datetime.now(UTC)
    await store(database_url, station, _every_10_minutes(now - timedelta(days=3), now))
    _, token = await new_user(database_url, [station])

    await _sign_in(page, site, token)
    await _open_history(page, station, "range-1y")
    await page.get_by_test_id("resolution").select_option("raw")  # a year of raw rows: long
    await page.get_by_test_id("load-history").click()
    status = page.get_by_test_id("job-status")
    await expect(status).to_contain_text(re.compile("queued|running"))
    await site.shot(page, "1-loading")
    await page.get_by_test_id("cancel").click()
    await expect(status).to_contain_text("cancelled", timeout=5_000)
    await site.shot(page, "2-cancelled")

    listed = (
        await site.api.get("/v1/historical-jobs", headers={"authorization": f"Bearer {token}"})
    ).json()["jobs"]
    assert [j["status"] for j in listed] == ["cancelled"]  # this user's one job, stopped
    assert listed[0]["resolution"] == "raw"
    # The page shows the figure the server recorded, as `scada jobs list` does.
    percent = round(listed[0]["progress"] * 100)
    await expect(status).to_contain_text(f"cancelled at {percent} %")
    assert await page.get_by_test_id("progress").get_attribute("aria-valuenow") == str(percent)


async def test_refusals_are_shown_plainly(
    site: Site, page: Page, database_url: str, unique: str
) -> None:
    station = f"{unique}-short"
    now = datetime.now(UTC)
    await store(database_url, station, _every_10_minutes(now - timedelta(hours=2), now))
    _, token = await new_user(database_url, [station], max_days=7)

    await _sign_in(page, site, "scadau_not-a-real-token")
    await expect(page.get_by_role("alert").first).to_contain_text("the token is unknown")
    await site.shot(page, "1-bad-token")

    await _sign_in(page, site, token)
    await _open_history(page, station, "range-30d")
    await page.get_by_test_id("load-history").click()
    await expect(page.get_by_test_id("error")).to_contain_text("exceeds your limit of 7 days")
    await expect(page.get_by_test_id("job-status")).to_contain_text("failed")
    await site.shot(page, "2-over-the-limit")


async def test_the_live_chart_grows_while_the_simulator_posts(
    site: Site,
    page: Page,
    database_url: str,
    unique: str,
    gateway_settings: Any,
    processor_settings: Any,
) -> None:
    station = f"{unique}-live"
    _, token = await new_user(database_url, [station])  # registers it to organisation "org"
    write_token = await make_token(database_url, "org", [station])
    async with (
        running_sink(processor_settings),
        running_gateway(gateway_settings, write_token) as gateway,
    ):
        simulator = asyncio.create_task(
            live(Poster(gateway.client, write_token), [station], rate=2, say=lambda _: None)
        )
        try:
            await _sign_in(page, site, token)
            item = page.locator(f'[data-station-id="{station}"]')
            await item.click()
            chart = page.get_by_test_id("chart")
            await expect(chart).to_have_attribute("data-mode", "live", timeout=15_000)
            await expect(chart).not_to_have_attribute("data-point-count", "0", timeout=15_000)
            first = int(await chart.get_attribute("data-point-count") or 0)
            await site.shot(page, "1-live")
            await expect(chart).not_to_have_attribute("data-point-count", str(first))
            later = int(await chart.get_attribute("data-point-count") or 0)
            assert later > first
            await expect(item).to_have_attribute("data-health", "live", timeout=10_000)
            await site.shot(page, "2-live-grown")
        finally:
            simulator.cancel()
            await asyncio.gather(simulator, return_exceptions=True)


async def test_stations_and_the_live_stream_over_http(
    site: Site, database_url: str, unique: str, kafka_bootstrap: str
) -> None:
    """The API behind the page: grants, last seen, bad input, snapshot then live frames."""
    mine, theirs = f"{unique}-a", f"{unique}-b"
    now = datetime.now(UTC).replace(microsecond=0)
    await store(database_url, mine, [(now - timedelta(seconds=30), {"temperature": 21.5})])
    await store(database_url, theirs, [(now, {"temperature": 1.0})])
    _, token = await new_user(database_url, [mine])
    auth = {"authorization": f"Bearer {token}"}

    listed = (await site.api.get("/v1/stations", headers=auth)).json()["stations"]
    assert [s["station_id"] for s in listed] == [mine]
    assert listed[0]["health"] == "live"
    assert listed[0]["sensors"] == ["temperature"]
    assert datetime.fromisoformat(listed[0]["last_seen"]) == now - timedelta(seconds=30)
    assert (await site.api.get("/v1/stations")).status_code == 401
    forbidden = await site.api.get(f"/v1/stations/{theirs}/live", headers=auth)
    assert forbidden.status_code == 403
    assert theirs in forbidden.json()["message"]
    bad = await site.api.get(f"/v1/stations/{mine}/live?minutes=0", headers=auth)
    assert bad.status_code == 422
    assert "minutes" in bad.json()["message"]

    # A user of "all stations" reads their organisation's stations, not everybody's.
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO ingest.stations (station_id, org_id) VALUES ($1, 'org'), ($2, $3) "
            "ON CONFLICT DO NOTHING",  # the user's grant registered the first already
            mine,
            theirs,
            f"{unique}-other-org",
        )
    finally:
        await conn.close()
    _, everything = await new_user(database_url, ["*"])  # of organisation "org"
    wide = {"authorization": f"Bearer {everything}"}
    listed = (await site.api.get("/v1/stations", headers=wide)).json()["stations"]
    assert mine in {s["station_id"] for s in listed}
    assert theirs not in {s["station_id"] for s in listed}
    assert (await site.api.get(f"/v1/stations/{theirs}/live", headers=wide)).status_code == 403
    async with site.api.stream("GET", f"/v1/stations/{mine}/live", headers=wide) as granted:
        assert granted.status_code == 200

    paths = (await site.api.get("/openapi.json")).json()["paths"]
    assert {"/v1/me", "/v1/stations", "/v1/stations/{station_id}/live"} <= set(paths)

    # The page and its assets come from this origin only, and the policy says so.
    index = await site.api.get("/")
    assert "default-src 'self'" in index.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', index.text)
    assert len(assets) == 2
    assert not re.search(r'(?:src|href)="(?:https?:)?//', index.text)
    for asset in assets:
        served = await site.api.get(asset)
        assert served.status_code == 200
        assert "immutable" in served.headers["cache-control"]

    topic = f"{unique}.scada.readings.v1"
    frames: list[tuple[str, Any]] = []
    async with (
        asyncio.timeout(15),
        site.api.stream("GET", f"/v1/stations/{mine}/live", headers=auth) as stream,
    ):
        event = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                frames.append((event, orjson.loads(line[6:])))
                if event == "snapshot":  # now send one reading through Kafka
                    async with AIOKafkaProducer(bootstrap_servers=kafka_bootstrap) as producer:
                        message = StationReadingsAccepted(
                            ingest_id=uuid4(),
                            org_id="org",
                            station_id=mine,
                            chunk=0,
                            accepted_at=now,
                            readings=[Reading(ts=now, values={"temperature": 22.0})],
                        )
                        await producer.send_and_wait(
                            topic, message.model_dump_json().encode(), key=mine.encode()
                        )
                if event == "readings":
                    break
    earlier = (now - timedelta(seconds=30)).timestamp()
    assert frames[0] == (
        "snapshot",
        {"station_id": mine, "readings": [[earlier, {"temperature": 21.5}]]},
    )
    assert frames[1] == (
        "readings",
        {"station_id": mine, "readings": [[now.timestamp(), {"temperature": 22.0}]]},
    )


async def test_the_live_stream_has_what_the_stream_processors_have_not_stored_yet(
    backends: Backends, database_url: str, unique: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Accepted two minutes before the chart opened, not stored yet: still on the chart.

    The stream processors' committed offset says where their unstored part begins;
    the live stream reads from there, not just the last minute.
    """
    settings = historical_settings(
        backends.kafka_bootstrap, database_url, unique, tmp_path / "results"
    ).model_copy(update={"sink_group": f"{unique}.sink"})
    station = f"{unique}-lag"
    _, token = await new_user(database_url, [station])
    now = datetime.now(UTC).replace(microsecond=0)
    topic = f"{unique}.scada.readings.v1"
    # 300 messages of one reading each, accepted two minutes before the chart opens: more
    # than a browser's queue holds (256 frames), so they must arrive as few frames.
    stamps = [now - timedelta(seconds=110) + timedelta(milliseconds=200 * i) for i in range(300)]
    async with running_historical(settings) as api:
        async with AIOKafkaProducer(bootstrap_servers=kafka_bootstrap) as producer:
            sent = [
                await producer.send(
                    topic,
                    StationReadingsAccepted(
                        ingest_id=uuid4(),
                        org_id="org",
                        station_id=station,
                        chunk=0,
                        accepted_at=now - timedelta(minutes=2),
                        readings=[Reading(ts=ts, values={"temperature": 19.0})],
                    )
                    .model_dump_json()
                    .encode(),
                    key=station.encode(),
                    timestamp_ms=int((now - timedelta(minutes=2)).timestamp() * 1000),
                )
                for ts in stamps
            ]
            first = await sent[0]
            await producer.flush()
        # The stream processors stopped right before these messages: none is stored.
        async with AIOKafkaConsumer(
            bootstrap_servers=kafka_bootstrap, group_id=f"{unique}.sink", enable_auto_commit=False
        ) as sink:
            partition = TopicPartition(topic, first.partition)
            sink.assign([partition])
            await sink.commit({partition: first.offset})

        frames: list[tuple[str, Any]] = []
        auth = {"authorization": f"Bearer {token}"}
        async with (
            asyncio.timeout(15),
            api.stream("GET", f"/v1/stations/{station}/live", headers=auth) as stream,
        ):
            event = ""
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    frames.append((event, orjson.loads(line[6:])))
                    if sum(len(f["readings"]) for e, f in frames if e == "readings") >= 300:
                        break
    assert frames[0] == ("snapshot", {"station_id": station, "readings": []})
    received = [r for event, frame in frames[1:] for r in frame["readings"]]
    assert {event for event, _ in frames[1:]} == {"readings"}
    assert received == [[ts.timestamp(), {"temperature": 19.0}] for ts in stamps]
    assert len(frames) < 10  # a handful of frames, not one per message


def _catalogue(language: str) -> dict[str, Any]:
    """The dashboard's string catalogue of ``language``, as the page has it (node reads it)."""
    source = Path(__file__).resolve().parents[2] / f"dashboard/src/i18n/{language}.js"
    script = f"import('{source.as_uri()}').then((m) => console.log(JSON.stringify(m.default)))"
    done = subprocess.run(["node", "-e", script], capture_output=True, check=True, text=True)
    loaded: dict[str, Any] = orjson.loads(done.stdout)
    return loaded


def _english_left(text: str) -> list[str]:
    """The English catalogue's words that ``text`` still holds: each fragment of an entry
    between its placeholders (four letters or more, not also Indonesian)."""
    english, indonesian = _catalogue("en"), _catalogue("id")

    def forms(entry: Any) -> list[str]:
        return list(entry.values()) if isinstance(entry, dict) else [entry]

    ours = " ".join(form for entry in indonesian.values() for form in forms(entry))
    left = set()
    for entry in english.values():
        for form in forms(entry):
            for fragment in re.split(r"\{\w+\}", form):
                words = fragment.strip(" .,:;()…·“”%")
                shown = re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text)
                if len(words) >= 4 and words not in ours and shown:
                    left.add(words)
    return sorted(left)


async def _everything_shown(page: Page) -> str:
    """The page's visible text and the names a screen reader hears."""
    shown: str = await page.evaluate(
        """() => [document.body.innerText, document.title,
                  ...[...document.querySelectorAll("[aria-label], [title], [placeholder]")]
                    .filter((el) => el.checkVisibility())
                    .flatMap((el) => ["aria-label", "title", "placeholder"]
                      .map((name) => el.getAttribute(name) ?? ""))].join("\\n")"""
    )
    return shown


@pytest.mark.parametrize(
    "size", [(1400, 900), (390, 844)], ids=lambda size: "desktop" if size[0] > 700 else "phone"
)
async def test_an_indonesian_browser_gets_the_page_in_bahasa_indonesia(
    site: Site, browser: Browser, database_url: str, unique: str, size: tuple[int, int]
) -> None:
    """A user with no language of their own, in a browser that prefers Indonesian (in
    Jakarta): every state of the page speaks Bahasa Indonesia, with Indonesian numbers,
    and no English word of the catalogue is left, at 1400 and at 390 px. Picking English
    in the header saves it as the user's setting, which then beats the browser's."""
    width, height = size
    sending, silent = f"{unique}-a-kirim", f"{unique}-b-senyap"
    now = datetime.now(UTC)
    day = [
        (
            now - timedelta(days=1) + timedelta(minutes=10 * i),
            {"temperature": 25.0 + i % 7, "rain": 0.2 * (i % 3), "wind_direction": 10.0 * (i % 36)},
        )
        for i in range(144)
    ]
    day.append((now - timedelta(seconds=20), {"temperature": 28.5}))
    await store(database_url, sending, day)
    await store(database_url, silent, [(now - timedelta(hours=3), {"temperature": 24.0})])
    name = f"{unique}-id-{width}"
    conn = await asyncpg.connect(database_url)
    try:
        _, token = await create_user(
            conn, name=name, org_id="org", stations=[sending, silent], time_zone="Asia/Jakarta"
        )
    finally:
        await conn.close()
    context = await browser.new_context(
        viewport={"width": width, "height": height},
        is_mobile=width < 700,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
    )
    page = await context.new_page()
    shot = f"id-{'phone' if width < 700 else 'desktop'}"
    leaks: dict[str, list[str]] = {}

    async def check(state: str) -> None:
        await site.shot(page, f"{shot}-{state}")
        if left := _english_left(await _everything_shown(page)):
            leaks[state] = left

    async def pick(station: str) -> None:
        item = page.locator(f'[data-station-id="{station}"]')
        if not await item.is_visible():
            await page.get_by_test_id("stations-toggle").click()  # the phone's drawer
        await item.click()

    try:
        await page.goto(site.url + "/")
        await expect(page.locator("html")).to_have_attribute("lang", "id")
        await expect(page.get_by_test_id("sign-in")).to_have_text("Masuk")
        await check("1-sign-in")
        await page.get_by_test_id("token-input").fill(token)
        await page.get_by_test_id("sign-in").click()
        await expect(page.get_by_test_id("state-silent")).to_contain_text("1 senyap")
        await page.get_by_test_id("station-sort").select_option("trouble")
        await expect(page.get_by_test_id("station-item").first).to_have_attribute(
            "data-station-id", silent
        )
        await check("2-stations")
        await pick(silent)
        await expect(page.get_by_test_id("chart")).to_contain_text("pembacaan terakhir 3 jam lalu")
        await check("3-silent-live")
        await pick(sending)
        chart = page.get_by_test_id("chart")
        await expect(chart).to_have_attribute(
            "aria-label", re.compile("^Grafik langsung Suhu udara"), timeout=15_000
        )
        await expect(page.get_by_test_id("sensors")).to_contain_text("Curah hujan (mm)")
        await check("4-live")
        for sensor in ("rain", "wind_direction"):
            await page.get_by_test_id(f"sensor-{sensor}").check()
        await page.get_by_test_id("mode-history").click()
        await expect(chart).to_contain_text("Pilih rentang lalu tekan Muat.")
        await page.get_by_test_id("range-1d").click()
        await page.get_by_test_id("load-history").click()
        status = page.get_by_test_id("job-status")
        await expect(status).to_contain_text(
            re.compile(r"selesai: \d+ titik digambar"), timeout=20_000
        )
        await expect(page.get_by_test_id("progress")).to_have_attribute("aria-valuenow", "100")
        await expect(page.locator("#chart-note")).to_contain_text("baris diambil dan digambar")
        await check("5-history")
        # The CSV in the user's zone: each time with Jakarta's offset, named in the file name.
        await page.get_by_test_id("csv-zone").select_option("Asia/Jakarta")
        async with page.expect_download() as downloading:
            await page.get_by_test_id("download").click()
        download = await downloading.value
        assert download.suggested_filename.endswith("-Asia_Jakarta.csv")
        saved = await download.path()
        rows = (await asyncio.to_thread(Path(saved).read_text)).splitlines()
        assert rows[0].startswith("station_id,bucket,sensor,")
        assert len(rows) > 100
        assert all(row.split(",")[1].endswith("+07:00") for row in rows[1:]), rows[1]
        # Indonesian numbers: a decimal comma under the cursor (25,0 °C, not 25.0 °C).
        temperature = chart.locator('.panel[data-sensor="temperature"]')
        await expect(temperature.locator(".u-legend")).to_contain_text("Suhu udara (°C)")
        await temperature.scroll_into_view_if_needed()  # a phone's screen ends above it
        box = await temperature.locator(".u-over").bounding_box()
        assert box is not None
        await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        await expect(temperature.locator(".u-legend .u-value").nth(1)).to_have_text(
            re.compile(r"^\d+,\d °C$")
        )
        assert leaks == {}, f"English left on the page: {leaks}"

        await expect(page.get_by_test_id("language-id")).to_have_attribute("aria-pressed", "true")
        await page.get_by_test_id("language-en").click()
        await expect(page.locator("html")).to_have_attribute("lang", "en", timeout=15_000)
        await expect(page.get_by_test_id("mode-live")).to_have_text("Live")
        # The page reloaded in English, signed in, the keyboard on the button pressed.
        await expect(page.get_by_test_id("language-en")).to_be_focused()
        await expect(page.get_by_test_id("language-en")).to_have_attribute("aria-pressed", "true")
        me = await site.api.get("/v1/me", headers={"authorization": f"Bearer {token}"})
        assert me.json()["language"] == "en"  # the user's setting now, not just this tab's
        await site.shot(page, f"{shot}-6-english")
    finally:
        await context.close()
