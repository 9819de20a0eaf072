"""The sections of a research report, one module each, sharing a :class:`ReportContext`.

Every module presents numbers the analysis computed (``analyze(...).to_dict()``); none fits a
model or tests a hypothesis of its own.
"""
