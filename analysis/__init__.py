"""Pure statistics for loyalty research: DataFrame in, tidy DataFrame or dataclass out.

Never imports the web app, the ORM, ``surveys`` or ``reports``.
"""
