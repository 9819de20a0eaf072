"""The trend dashboard of a study: indices and NPS across waves, by segment."""
