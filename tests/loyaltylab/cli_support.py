"""The data file and model the CLI tests analyse."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "analysis" / "data" / "loyalty_segments.csv"


MODEL = """
SAT =~ sat1 + sat2 + sat3 + sat4
VAL =~ val1 + val2 + val3
LOY =~ loy1 + loy2 + loy3
VAL ~ a*SAT
LOY ~ c*SAT + b*VAL
ind := a*b
"""
