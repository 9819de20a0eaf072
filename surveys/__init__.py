"""The questionnaire library: model, validation, display logic, answers, scale library, versions,
JSON and XLSForm formats, quality flags and simulated respondents. Pure: no tables, no sessions,
no web framework (the web app stores questionnaires and responses, see docs/architecture.md)."""
