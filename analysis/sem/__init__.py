"""Structural equation modelling by maximum likelihood, agreeing with lavaan.

``fit_sem`` fits CFA and SEM models written in lavaan syntax, with listwise deletion or full
information maximum likelihood (FIML), and returns lavaan's parameter table, fit measures and
R-squared.
"""

from analysis.sem.fitting import SemResult, fit_sem

__all__ = ["SemResult", "fit_sem"]
