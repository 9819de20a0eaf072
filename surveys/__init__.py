"""Questionnaire model, scale library, distribution (waves, invitations) and responses."""
