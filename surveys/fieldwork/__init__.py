"""Fieldwork: waves, contacts, invitations and responses (storage and the respondent flow)."""
