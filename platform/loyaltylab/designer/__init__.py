"""Questionnaire designer: the web pages over surveys.service."""
