"""One settings object, read from ``LOYALTYLAB_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "secret", "insecure", "example")
MIN_SECRET_KEY_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 12
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# A comma-separated list in the environment (``a.example,b.example``), not JSON.
CommaSeparated = Annotated[list[str], NoDecode]


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
    allowed_hosts: CommaSeparated = []
    """Host names answered besides BASE_URL's (another name of the same site)."""
    trusted_proxies: CommaSeparated = []
    """Addresses or networks of the reverse proxies whose X-Forwarded-For is believed."""
    signup_max_age: int = 24 * 3600
    login_max_failures: int = 5
    """Failed sign-ins per account (from any address) before it is throttled for the window."""
    login_max_failures_per_address: int = 20
    """Failed sign-ins from one client address (to any accounts) before it is throttled."""
    login_window_seconds: int = 300
    max_body_bytes: int = 5 * 1024 * 1024
    job_timeout_seconds: int = Field(default=30 * 60, ge=60)
    """A background job running longer than this is marked failed (its worker has died)."""
    sms_url: str = "outbox://"
    """The SMS gateway (loyaltylab.sms.gateways): ``outbox://`` keeps texts in the outbox."""
    sms_country_code: str = Field(default="86", pattern=r"^[1-9][0-9]{0,3}$")
    """The country code of phone numbers written without one (``138 0013 8000``)."""
    sms_inbound_token: str = ""
    """Required (``?token=``) on ``/sms/inbound`` for gateways that do not sign their calls."""
    webhooks_allow_private: bool = False
    """Send webhooks to private, loopback and link-local addresses (tests, closed networks)."""
    webhook_max_attempts: int = Field(default=8, ge=1, le=20)
    webhook_retry_seconds: float = Field(default=60.0, gt=0)
    """The first retry's delay; each further one waits twice as long (60 s ... 64 min)."""
    api_calls_per_minute: int = Field(default=120, ge=1)
    """Calls one API key may make in a minute; more get 429 with Retry-After."""

    @field_validator("allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("sms_url")
    @classmethod
    def _check_sms_gateway(cls, value: str) -> str:
        """A gateway URL that cannot be used stops the start, not the first texting."""
        from loyaltylab.sms.gateways import gateway_from_url

        gateway_from_url(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"LOYALTYLAB_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
                ) from None
        return value

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

    @property
    def accepted_hosts(self) -> frozenset[str]:
        """The Host header values answered: BASE_URL's host and ALLOWED_HOSTS (a loopback base
        URL also accepts the other names of loopback, as a browser on the machine may use)."""
        base_host = (urlsplit(self.base_url).hostname or "").lower()
        hosts = {base_host, *(host.lower() for host in self.allowed_hosts)}
        if base_host in LOOPBACK_HOSTS:
            hosts |= LOOPBACK_HOSTS
        return frozenset(hosts)

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)

    def absolute_url(self, path: str) -> str:
        """Every absolute link is built from BASE_URL, never from the request's Host header."""
        return f"{self.base_url}/{path.lstrip('/')}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
