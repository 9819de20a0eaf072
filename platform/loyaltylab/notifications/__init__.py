"""Notices to a study's commissioning client: its wave closed and the wave's report is ready."""
