"""Partial least squares path modelling (PLS-SEM), as SmartPLS, R plspm and seminr.

:func:`fit_pls` estimates models written in lavaan syntax — ``=~`` reflective blocks,
``<~`` composites, ``~`` paths, data columns in paths as single items — with the path,
factorial or centroid inner weighting scheme, standardized or centred items, and optionally
consistent PLS (PLSc); :class:`PlsResult` gives the outer and inner model and the quality
criteria. :func:`bootstrap_pls` adds standard errors and percentile/BCa intervals,
:func:`blindfolding` and :func:`plspredict` the predictive relevance, and
:func:`satisfaction_index` and :func:`importance_performance_map` the ACSI-style indices and
the IPMA. :func:`analysis.pipeline.analyze` with ``estimator="pls"`` runs them all.
"""

from analysis.pls.bootstrap import PlsBootstrap, bootstrap_pls
from analysis.pls.estimation import PlsResult, PlsSettings, fit_pls
from analysis.pls.indices import importance_performance_map, rescaled_weights, satisfaction_index
from analysis.pls.predict import PlsPrediction, blindfolding, plspredict
from analysis.pls.specification import Block, PlsModel, pls_model

__all__ = [
    "Block",
    "PlsBootstrap",
    "PlsModel",
    "PlsPrediction",
    "PlsResult",
    "PlsSettings",
    "blindfolding",
    "bootstrap_pls",
    "fit_pls",
    "importance_performance_map",
    "pls_model",
    "plspredict",
    "rescaled_weights",
    "satisfaction_index",
]
