"""The respondent side of fieldwork: public and personal links, page by page."""
