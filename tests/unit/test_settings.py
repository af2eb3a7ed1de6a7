"""Settings come from SCADA_-prefixed environment variables (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.settings import DEFAULT_DATABASE_URL, DEFAULT_KAFKA_BOOTSTRAP, PlatformSettings


def test_unset_servers_mean_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCADA_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.delenv("SCADA_DATABASE_URL", raising=False)
    settings = PlatformSettings()
    assert not settings.kafka_is_external
    assert not settings.database_is_external
    assert settings.effective_kafka_bootstrap == DEFAULT_KAFKA_BOOTSTRAP
    assert settings.effective_database_url == DEFAULT_DATABASE_URL


def test_environment_names_existing_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCADA_KAFKA_BOOTSTRAP", "kafka.example:9092")
    monkeypatch.setenv("SCADA_DATABASE_URL", "postgresql://u@db.example/scada")
    monkeypatch.setenv("SCADA_HOME", "/srv/scada")
    settings = PlatformSettings()
    assert settings.kafka_is_external
    assert settings.effective_kafka_bootstrap == "kafka.example:9092"
    assert settings.effective_database_url == "postgresql://u@db.example/scada"
    assert settings.home == Path("/srv/scada")


def test_settings_are_frozen() -> None:
    settings = PlatformSettings()
    with pytest.raises(ValueError, match="frozen"):
        settings.home = Path("/elsewhere")  # type: ignore[misc]
