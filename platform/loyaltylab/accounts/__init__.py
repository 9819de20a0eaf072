"""Organisations, users, memberships and everything about signing in."""
