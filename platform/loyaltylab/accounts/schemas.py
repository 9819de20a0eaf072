"""Validated input of the accounts forms."""

from __future__ import annotations

import re

from loyaltylab.accounts.models import Role
from loyaltylab.errors import InvalidInput
from loyaltylab.security import MIN_PASSWORD_LENGTH

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def clean_email(value: str) -> str:
    email = value.strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 320:
        raise InvalidInput("Enter a valid e-mail address.", field="email")
    return email


def clean_password(value: str) -> str:
    if len(value) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "Use at least %(min)s characters for the password.",
            field="password",
            min=MIN_PASSWORD_LENGTH,
        )
    if len(value) > 1024:
        raise InvalidInput("This password is too long.", field="password")
    return value


def clean_name(value: str, *, field: str, max_length: int = 200) -> str:
    name = " ".join(value.split())
    if not name:
        raise InvalidInput("This field is required.", field=field)
    if len(name) > max_length:
        raise InvalidInput("Use at most %(max)s characters.", field=field, max=max_length)
    return name


def role_choice(role: Role | str, client_organisation_id: int | None = None) -> str:
    """A role as one form value: ``researcher``, or ``client:12`` for a client of company 12."""
    value = Role(role).value
    return f"{value}:{client_organisation_id}" if client_organisation_id is not None else value


def parse_role_choice(value: str) -> tuple[Role, int | None]:
    """The role and, for a client, the company of a :func:`role_choice` value."""
    role, _, company = value.partition(":")
    try:
        return Role(role), int(company) if company else None
    except ValueError:
        raise InvalidInput("Choose one of the roles.", field="role") from None
