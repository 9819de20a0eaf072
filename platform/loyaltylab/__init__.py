"""LoyaltyLab: survey and loyalty research platform (web app, settings, database, auth, CLI)."""

__version__ = "0.1.0"
