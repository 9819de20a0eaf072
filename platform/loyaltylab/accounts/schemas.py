"""Validated input of the accounts forms."""

from __future__ import annotations

import re

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
