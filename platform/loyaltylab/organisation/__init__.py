"""The research organisation's own settings (its time zone)."""
