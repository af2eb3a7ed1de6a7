"""The monitoring configuration deploy/ ships is valid, and every alert is unit-tested.

promtool and amtool (Debian's prometheus and prometheus-alertmanager packages)
check the files; tests/promtool/*_test.yml feed each rule synthetic series.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO / "deploy" / "prometheus"
RULE_TESTS = sorted((REPO / "tests" / "promtool").glob("*_test.yml"))


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    if shutil.which(argv[0]) is None:
        pytest.fail(f"{argv[0]} is missing: `make test` installs it (deploy/local)")
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_the_scrape_config_and_rules_are_valid() -> None:
    result = _run("promtool", "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_alertmanager_config_is_valid() -> None:
    config = REPO / "deploy" / "alertmanager" / "alertmanager.yml"
    result = _run("amtool", "check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule_test", RULE_TESTS, ids=lambda p: p.name)
def test_the_rules_behave_on_synthetic_series(rule_test: Path) -> None:
    result = _run("promtool", "test", "rules", str(rule_test))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in _alerts()}
    assert names - firing == set(), "alerts never shown firing"
    assert names - quiet == set(), "alerts never shown staying quiet"


def test_every_alert_has_a_severity_and_a_runbook_section() -> None:
    operations = (REPO / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in operations.splitlines()
        if line.startswith("#")
    }
    for rule in _alerts():
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        runbook = rule["annotations"]["runbook"]
        assert runbook == f"docs/operations.md#{rule['alert'].lower()}", rule["alert"]
        assert rule["alert"].lower() in anchors, f"docs/operations.md has no section {runbook}"


def test_the_compose_file_is_valid_compose() -> None:
    """Checked against the compose specification's own schema (check-jsonschema vendors it):
    Debian's docker-compose 1.29 is too old to parse today's files."""
    compose = REPO / "deploy" / "docker-compose.yml"
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = _run(str(checker), "--builtin-schema", "vendor.compose-spec", str(compose))
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_the_same_monitoring_files() -> None:
    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text())["services"]
    assert "./prometheus:/etc/prometheus:ro" in compose["prometheus"]["volumes"]
    assert "./alertmanager:/etc/alertmanager:ro" in compose["alertmanager"]["volumes"]
    # Each job the scrape config names has a target file for the containers.
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    for job in config["scrape_configs"]:
        (sd,) = job["file_sd_configs"]
        for pattern in sd["files"]:
            assert (PROMETHEUS / pattern).exists(), f"{job['job_name']}: {pattern}"


def test_the_shipped_dashboards_are_the_generated_ones() -> None:
    """deploy/grafana/dashboards/*.json come from tooling/grafana (python -m tooling.grafana)."""
    from tooling.grafana.__main__ import DIRECTORY, rendered
    from tooling.grafana.dashboards import DASHBOARDS

    shipped = {p.stem: p.read_text() for p in DIRECTORY.glob("*.json")}
    assert shipped == {d.uid: rendered(d) for d in DASHBOARDS}
    for dashboard in DASHBOARDS:
        ids = [p["id"] for p in dashboard.render()["panels"]]
        assert len(ids) == len(set(ids)), dashboard.uid
