"""The layer contract in pyproject.toml holds, and catches an import that goes the wrong way."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = (
    "schemas",
    "base",
    "ingest_gateway",
    "stream_processors",
    "historical_service",
    "tooling",
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_tree_keeps_the_contract(tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "complaint"),
    [
        # a service taking something of another service
        (
            "historical_service/live.py",
            "ingest_gateway.errors",
            "historical_service is not allowed",
        ),
        # the base reaching up into a service
        ("base/settings.py", "stream_processors.settings", "base is not allowed"),
        # the contract depending on the base
        ("schemas/topics.py", "base.errors", "schemas is not allowed"),
        # a service depending on the tooling that drives it
        ("ingest_gateway/app.py", "tooling.cli", "ingest_gateway is not allowed"),
    ],
)
def test_an_import_against_the_arrow_breaks_it(
    tmp_path: Path, module: str, wrong_import: str, complaint: str
) -> None:
    tree = _copy(tmp_path)
    with (tree / module).open("a") as source:
        source.write(f"\nimport {wrong_import}  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert complaint in result.stdout
    assert f"-> {wrong_import}" in result.stdout
