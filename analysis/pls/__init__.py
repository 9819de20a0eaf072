"""Partial least squares path modelling (PLS-SEM), as SmartPLS, R plspm and seminr.

:func:`fit_pls` estimates models written in lavaan syntax — ``=~`` reflective blocks,
``<~`` composites, ``~`` paths — with the path, factorial or centroid inner weighting scheme,
standardized or centred items, and optionally consistent PLS (PLSc).
"""

from analysis.pls.estimation import PlsResult, PlsSettings, fit_pls
from analysis.pls.specification import Block, PlsModel, pls_model

__all__ = ["Block", "PlsModel", "PlsResult", "PlsSettings", "fit_pls", "pls_model"]
