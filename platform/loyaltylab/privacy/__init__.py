"""Privacy pages: a study's open-text release and retention period, erasing a contact."""
