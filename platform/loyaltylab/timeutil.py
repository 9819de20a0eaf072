"""Times: stored as timezone-aware UTC, shown and typed in the organisation's time zone.

The default zone is UTC. Organisations that existed before the setting saw and typed every
time in UTC ("Times are in UTC"), so keeping UTC reinterprets none of the opening and closing
times they entered; and a guessed zone that is wrong (Asia/Shanghai for a London agency) shifts
every time by hours without saying so, while UTC is named beside every time until an owner sets
the organisation's own zone on its settings page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_TIME_ZONE = "UTC"

# Offered first on the settings page: where LoyaltyLab's users mostly work.
COMMON_TIME_ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@cache
def zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC for None, an empty or an unknown name."""
    try:
        return ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def is_time_zone(name: str) -> bool:
    return name in all_time_zones()


@cache
def all_time_zones() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (the "posix/" and "right/" copies and
    the legacy aliases without a "/" other than UTC left out)."""
    names = {
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("posix/", "right/", "Etc/", "SystemV/"))
    }
    return tuple(sorted(names | {"UTC"}))


def as_utc(moment: datetime) -> datetime:
    """A stored time as aware UTC (SQLite gives back naive datetimes; every stored time is UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(moment: datetime, zone_name: str | None) -> datetime:
    """A stored time in the zone ``zone_name``."""
    return as_utc(moment).astimezone(zone(zone_name))


def local_date(moment: datetime, zone_name: str | None) -> date:
    """The calendar day ``moment`` falls on in the zone ``zone_name``."""
    return local(moment, zone_name).date()


def from_local(moment: datetime, zone_name: str | None) -> datetime:
    """A time typed in the zone ``zone_name`` (naive) as aware UTC; an aware one as it is."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(zone_name))
    return moment.astimezone(UTC)


def utc_offset(zone_name: str | None, at: datetime | None = None) -> str:
    """``UTC+08:00``: the zone's offset at ``at`` (now by default)."""
    offset = (at or utcnow()).astimezone(zone(zone_name)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
