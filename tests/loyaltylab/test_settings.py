"""Settings: the secret key rules in production and the generated key in development."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from loyaltylab.settings import Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("LOYALTYLAB_SECRET_KEY", "LOYALTYLAB_ENV", "LOYALTYLAB_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    var = tmp_path / "var"
    monkeypatch.setenv("LOYALTYLAB_VAR_DIR", str(var))
    monkeypatch.setenv("LOYALTYLAB_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    return var


@pytest.mark.parametrize(
    "key",
    [
        "",
        "changeme",
        "secret",
        "short-but-random-Zx81",
        "x" * 31,
        "k" * 48,
        "changeme-changeme-changeme-changeme",
        "my-Super-secret-production-key-2026",
    ],
)
def test_production_refuses_a_missing_placeholder_or_short_key(
    key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LOYALTYLAB_ENV", "production")
    monkeypatch.setenv("LOYALTYLAB_SECRET_KEY", key)
    with pytest.raises(ValidationError, match="LOYALTYLAB_SECRET_KEY"):
        Settings()
    assert not (tmp_path / "var" / "secret_key").exists()  # never silently generated


def test_production_accepts_a_long_random_key(monkeypatch: pytest.MonkeyPatch) -> None:
    key = secrets.token_urlsafe(40)
    monkeypatch.setenv("LOYALTYLAB_ENV", "production")
    monkeypatch.setenv("LOYALTYLAB_SECRET_KEY", key)
    monkeypatch.setenv("LOYALTYLAB_BASE_URL", "https://survey.example.org/")
    settings = Settings()
    assert settings.secret_key == key
    assert settings.base_url == "https://survey.example.org" and settings.https
    assert settings.absolute_url("/x") == "https://survey.example.org/x"


def test_development_generates_the_key_once_readable_by_the_owner_only(
    _clean_environment: Path,
) -> None:
    first = Settings()
    path = _clean_environment / "secret_key"
    assert len(first.secret_key) >= 32
    assert path.read_text().strip() == first.secret_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings().secret_key == first.secret_key  # the next start reuses it


def test_an_explicit_key_is_used_as_given_in_development(
    _clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOYALTYLAB_SECRET_KEY", "k" * 40)
    assert Settings().secret_key == "k" * 40
    assert not (_clean_environment / "secret_key").exists()


def test_the_default_database_lives_in_the_var_directory(
    _clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOYALTYLAB_DATABASE_URL")
    url = Settings().database_url
    assert url == f"sqlite:///{(_clean_environment / 'loyaltylab.db').resolve()}"
