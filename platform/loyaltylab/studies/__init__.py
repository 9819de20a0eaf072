"""Studies: the research projects that questionnaires, waves and reports hang on."""
