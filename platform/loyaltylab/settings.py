"""One settings object, read from ``LOYALTYLAB_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "secret", "insecure", "example")
MIN_SECRET_KEY_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 12


def _looks_random(key: str) -> bool:
    """Long, varied and not built from a placeholder word (e.g. ``changeme`` repeated)."""
    lowered = key.lower()
    return (
        len(key) >= MIN_SECRET_KEY_LENGTH
        and len(set(key)) >= MIN_DISTINCT_CHARACTERS
        and not any(word in lowered for word in _PLACEHOLDER_WORDS)
    )


def var_dir() -> Path:
    """Where local state lives (SQLite database, generated key): ``LOYALTYLAB_VAR_DIR`` or ``var``.

    Read when settings are built, not at import, so every process and test can point it elsewhere.
    """
    return Path(os.environ.get("LOYALTYLAB_VAR_DIR", "var"))


def _default_database_url() -> str:
    return f"sqlite:///{(var_dir() / 'loyaltylab.db').resolve()}"


def _stored_secret_key() -> str:
    """Generate the signing key once and keep it in ``var/`` readable by the owner only."""
    directory = var_dir()
    path = directory / "secret_key"
    if path.exists():
        return path.read_text().strip()
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process (a second worker starting at the same moment) wrote it first.
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOYALTYLAB_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default_factory=_default_database_url)
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    redis_url: str | None = None
    smtp_url: str | None = None
    default_locale: Literal["en", "zh_CN"] = "en"
    session_max_age: int = 14 * 24 * 3600
    password_reset_max_age: int = 3600
    invitation_max_age: int = 7 * 24 * 3600
    login_max_failures: int = 5
    login_window_seconds: int = 60
    max_body_bytes: int = 5 * 1024 * 1024
    job_timeout_seconds: int = Field(default=30 * 60, ge=60)
    """A background job running longer than this is marked failed (its worker has died)."""

    @model_validator(mode="after")
    def _check_secret_key(self) -> Settings:
        if self.env == "production":
            if not _looks_random(self.secret_key):
                raise ValueError(
                    "LOYALTYLAB_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_KEY_LENGTH} characters in production"
                )
        elif not self.secret_key:
            self.secret_key = _stored_secret_key()
        self.base_url = self.base_url.rstrip("/")
        return self

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    def absolute_url(self, path: str) -> str:
        """Every absolute link is built from BASE_URL, never from the request's Host header."""
        return f"{self.base_url}/{path.lstrip('/')}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
