"""Estimator, standard-error and test options with lavaan's names and defaults.

``estimator`` picks a family of defaults, as lavaan's ``estimator =`` does; ``se`` and ``test``
override them one by one:

=========  =====================  =======================  =============
estimator  se                     test                     information
=========  =====================  =======================  =============
ML         standard               standard                 expected [1]_
MLR        robust.huber.white     yuan.bentler.mplus       observed
MLM        robust.sem             satorra.bentler          expected
=========  =====================  =======================  =============

.. [1] observed with FIML or Huber-White standard errors, as in lavaan.

All three estimate by maximum likelihood; they differ in the standard errors and the test
statistic. MLM needs complete data (listwise deletion); MLR works with FIML.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ESTIMATORS", "SE_TYPES", "TESTS", "EstimationOptions", "resolve_options"]

ESTIMATORS: dict[str, tuple[str, str]] = {
    "ML": ("standard", "standard"),
    "MLR": ("robust.huber.white", "yuan.bentler.mplus"),
    "MLM": ("robust.sem", "satorra.bentler"),
}
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
        ``"ML"``, ``"MLR"`` or ``"MLM"`` (as requested, upper case).
    se : str
        Standard errors: ``"standard"`` (inverse information), ``"robust.huber.white"``
        (sandwich with the casewise scores) or ``"robust.sem"`` (sandwich with Gamma).
    test : str
        ``"standard"`` (the ML chi-square only), ``"yuan.bentler.mplus"`` or
        ``"satorra.bentler"`` (scaled chi-square besides it).
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


def resolve_options(
    *, estimator: str = "ML", se: str | None = None, test: str | None = None, missing: str
) -> EstimationOptions:
    """Fill in lavaan's defaults and check the combination.

    Raises
    ------
    ValueError
        Unknown estimator, standard-error or test type, or a complete-data method (MLM,
        ``robust.sem``, ``satorra.bentler``) with FIML.

    Examples
    --------
    >>> resolve_options(estimator="mlr", missing="fiml")
    EstimationOptions(estimator='MLR', se='robust.huber.white', test='yuan.bentler.mplus', \
information='observed')
    """
    name = str(estimator).upper()
    if name not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
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
