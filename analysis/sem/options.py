"""Estimator, standard-error and test options with lavaan's names and defaults.

``estimator`` picks a family of defaults, as lavaan's ``estimator =`` does; ``se`` and ``test``
override them one by one:

=========  =====================  =======================  =============
estimator  se                     test                     information
=========  =====================  =======================  =============
ML         standard               standard                 expected [1]_
MLR        robust.huber.white     yuan.bentler.mplus       observed
MLM        robust.sem             satorra.bentler          expected
WLSMV      robust.sem             scaled.shifted           expected
=========  =====================  =======================  =============

.. [1] observed with FIML or Huber-White standard errors, as in lavaan.

ML, MLR and MLM estimate by maximum likelihood and differ in the standard errors and the test
statistic; MLM needs complete data (listwise deletion), MLR works with FIML. WLSMV is the
estimator of ordered items (lavaan's default with ``ordered =``): diagonally weighted least
squares on the polychoric correlations, with robust standard errors and the mean-and-variance
adjusted test; it is implied by ordered items and needs them, and it has no other standard
errors or test here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ESTIMATORS", "SE_TYPES", "TESTS", "EstimationOptions", "resolve_options"]

ESTIMATORS: dict[str, tuple[str, str]] = {
    "ML": ("standard", "standard"),
    "MLR": ("robust.huber.white", "yuan.bentler.mplus"),
    "MLM": ("robust.sem", "satorra.bentler"),
    "WLSMV": ("robust.sem", "scaled.shifted"),
}
# The choices of the maximum likelihood estimators (WLSMV has only its defaults).
SE_TYPES = ("standard", "robust.huber.white", "robust.sem")
TESTS = ("standard", "yuan.bentler.mplus", "satorra.bentler")
# Options that rest on the complete-data fourth-order moments (Gamma).
_COMPLETE_DATA_ONLY = {"robust.sem", "satorra.bentler"}


@dataclass(frozen=True)
class EstimationOptions:
    """The resolved options of one fit.

    Attributes
    ----------
    estimator : str
        ``"ML"``, ``"MLR"``, ``"MLM"`` or ``"WLSMV"`` (as requested, upper case).
    se : str
        Standard errors: ``"standard"`` (inverse information), ``"robust.huber.white"``
        (sandwich with the casewise scores) or ``"robust.sem"`` (sandwich with Gamma).
    test : str
        ``"standard"`` (the chi-square only), ``"yuan.bentler.mplus"`` or
        ``"satorra.bentler"`` (mean-scaled chi-square besides it) or ``"scaled.shifted"``
        (mean-and-variance adjusted, WLSMV).
    information : str
        ``"expected"`` or ``"observed"``: the information in the standard errors (the bread).
    """

    estimator: str
    se: str
    test: str
    information: str

    @property
    def robust_test(self) -> bool:
        return self.test != "standard"

    @property
    def ordinal(self) -> bool:
        """Whether the fit is of ordered items (WLSMV)."""
        return self.estimator == "WLSMV"


def resolve_options(
    *,
    estimator: str | None = None,
    se: str | None = None,
    test: str | None = None,
    missing: str,
    ordered: bool = False,
) -> EstimationOptions:
    """Fill in lavaan's defaults and check the combination.

    Parameters
    ----------
    estimator : {"ML", "MLR", "MLM", "WLSMV"}, optional
        Case-insensitive; by default WLSMV when there are ordered items, else ML.
    se, test : str, optional
        Override the estimator's standard errors or test (maximum likelihood estimators).
    missing : {"listwise", "fiml"}
        The missing-data rule of the fit.
    ordered : bool
        Whether the model has ordered items.

    Raises
    ------
    ValueError
        Unknown estimator, standard-error or test type; a complete-data method (MLM,
        ``robust.sem``, ``satorra.bentler``, WLSMV) with FIML; ordered items with a maximum
        likelihood estimator, or WLSMV without ordered items; other standard errors or tests
        than WLSMV's own with WLSMV.

    Examples
    --------
    >>> resolve_options(estimator="mlr", missing="fiml")
    EstimationOptions(estimator='MLR', se='robust.huber.white', test='yuan.bentler.mplus', \
information='observed')
    >>> resolve_options(missing="listwise", ordered=True).estimator
    'WLSMV'
    """
    name = ("WLSMV" if ordered else "ML") if estimator is None else str(estimator).upper()
    if name not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
    if name == "WLSMV":
        return _wlsmv_options(se=se, test=test, missing=missing, ordered=ordered)
    if ordered:
        raise ValueError(
            f"ordered items are fitted by WLSMV, not {name}: leave the estimator out (or give "
            "'WLSMV'), or analyse the items as continuous without 'ordered'"
        )
    default_se, default_test = ESTIMATORS[name]
    se = default_se if se is None else se
    test = default_test if test is None else test
    if se not in SE_TYPES:
        raise ValueError(f"se must be one of {', '.join(SE_TYPES)}, not {se!r}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}, not {test!r}")
    if missing == "fiml" and (name == "MLM" or {se, test} & _COMPLETE_DATA_ONLY):
        raise ValueError(
            "MLM (Satorra-Bentler) needs complete data; with missing answers use "
            "estimator MLR and FIML, or listwise deletion"
        )
    observed = missing == "fiml" or se == "robust.huber.white" or name == "MLR"
    return EstimationOptions(name, se, test, "observed" if observed else "expected")


def _wlsmv_options(
    *, se: str | None, test: str | None, missing: str, ordered: bool
) -> EstimationOptions:
    if not ordered:
        raise ValueError(
            "WLSMV is the estimator of ordered items: name them with 'ordered' (or use ML, "
            "MLR or MLM for continuous items)"
        )
    default_se, default_test = ESTIMATORS["WLSMV"]
    if se not in (None, default_se) or test not in (None, default_test):
        raise ValueError(
            f"WLSMV has standard errors {default_se!r} and test {default_test!r} only, "
            f"not se={se!r}, test={test!r}"
        )
    if missing == "fiml":
        raise ValueError(
            "FIML needs continuous items; with ordered items (WLSMV) rows with missing "
            "answers are deleted listwise, as lavaan does"
        )
    return EstimationOptions("WLSMV", default_se, default_test, "expected")
