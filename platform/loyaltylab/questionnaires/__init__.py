"""Questionnaire designer: the web pages over loyaltylab.questionnaires.service."""
