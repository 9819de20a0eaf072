"""Structural equation modelling by maximum likelihood and WLSMV, agreeing with lavaan.

``fit_sem`` fits CFA and SEM models written in lavaan syntax, with listwise deletion or full
information maximum likelihood (FIML), or with ordered items by WLSMV (``ordered=``:
:mod:`analysis.sem.ordinal` on the polychoric correlations of :mod:`analysis.sem.polychoric`),
and returns lavaan's parameter table, fit measures and R-squared; ``fit_multigroup`` fits one
model in several groups with lavaan's ``group.equal`` constraints.
"""

from analysis.sem.fitting import SemResult, fit_sem
from analysis.sem.multigroup import MultiGroupResult, fit_multigroup

__all__ = ["MultiGroupResult", "SemResult", "fit_multigroup", "fit_sem"]
