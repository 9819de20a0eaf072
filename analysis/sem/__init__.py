"""Structural equation modelling by maximum likelihood and WLSMV, agreeing with lavaan.

``fit_sem`` fits CFA and SEM models written in lavaan syntax, with listwise deletion or full
information maximum likelihood (FIML), normal-theory (ML) or robust (MLR: Huber-White and
Yuan-Bentler; MLM: Satorra-Bentler), or with ordered items by WLSMV (``ordered=``:
:mod:`analysis.sem.ordinal` on the polychoric correlations of :mod:`analysis.sem.polychoric`),
and returns lavaan's parameter table, fit measures, R-squared and modification indices;
``fit_multigroup`` fits one model in several groups with lavaan's ``group.equal`` and
``group.partial``. The estimator options are resolved by :mod:`analysis.sem.options`, the fit
measures are the pure functions of :mod:`analysis.sem.fitmeasures`, the robust corrections
those of :mod:`analysis.sem.robust`.
"""

from analysis.sem.fitting import SemResult, fit_sem
from analysis.sem.multigroup import MultiGroupResult, fit_multigroup

__all__ = ["MultiGroupResult", "SemResult", "fit_multigroup", "fit_sem"]
