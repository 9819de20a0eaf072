"""The analysis settings of a study, as stored in ``study.analysis_settings`` and as edited.

CB-SEM (lavaan-exact maximum likelihood, robust MLR, or WLSMV for items treated as ordered
categories) or PLS-SEM (inner weighting scheme, consistent PLS, bootstrap resamples), and the
missing-value codes ("don't know" = 9, "refused" = 99) of each questionnaire.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from loyaltylab.errors import InvalidInput
from loyaltylab.i18n import N_

T = TypeVar("T")
CBSEM, PLS = "cbsem", "pls"
METHODS = {CBSEM: N_("CB-SEM (covariance-based, common factors)"), PLS: N_("PLS-SEM (composites)")}
ESTIMATORS = {
    "ML": N_("ML (maximum likelihood)"),
    "MLR": N_("MLR (robust maximum likelihood)"),
    "WLSMV": N_("WLSMV (ordered categories)"),
}
PLS_SCHEMES = {"path": N_("Path"), "centroid": N_("Centroid"), "factorial": N_("Factorial")}
MAX_RESAMPLES = 5000
DEFAULT_RESAMPLES = 1000
"""Bootstrap resamples of a PLS analysis unless set otherwise: enough for stable percentile
intervals of paths and weights while a report still takes seconds."""


@dataclass(frozen=True)
class AnalysisSettings:
    """How a study's answers are analysed; the defaults are lavaan's (ML, no codes)."""

    method: str = CBSEM
    estimator: str = "ML"
    pls_scheme: str = "path"
    consistent: bool = False
    """Consistent PLS (PLSc) for the reflective constructs."""
    resamples: int = DEFAULT_RESAMPLES
    """Bootstrap resamples of the PLS paths, weights, loadings and effects."""
    missing_codes: Mapping[int, tuple[float, ...]] = field(default_factory=dict)
    """Questionnaire id -> the answer codes that mean "no answer"."""

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None) -> AnalysisSettings:
        """The settings saved in ``study.analysis_settings`` (missing keys: the defaults)."""
        stored = stored or {}
        defaults = cls()
        return cls(
            method=stored.get("method", defaults.method),
            estimator=stored.get("estimator", defaults.estimator),
            pls_scheme=stored.get("pls_scheme", defaults.pls_scheme),
            consistent=bool(stored.get("consistent", defaults.consistent)),
            resamples=int(stored.get("resamples", defaults.resamples)),
            missing_codes={
                int(questionnaire): tuple(float(code) for code in codes)
                for questionnaire, codes in (stored.get("missing_codes") or {}).items()
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``study.analysis_settings`` (questionnaire ids as text keys)."""
        return {
            "method": self.method,
            "estimator": self.estimator,
            "pls_scheme": self.pls_scheme,
            "consistent": self.consistent,
            "resamples": self.resamples,
            "missing_codes": {
                str(questionnaire): list(codes)
                for questionnaire, codes in self.missing_codes.items()
                if codes
            },
        }

    @property
    def is_pls(self) -> bool:
        return self.method == PLS

    def analysis_options(self, questionnaire_id: int) -> dict[str, Any]:
        """Keyword arguments of :func:`analysis.pipeline.analyze` these settings set, for the
        answers to one questionnaire."""
        options: dict[str, Any] = {
            "missing_codes": list(self.missing_codes.get(questionnaire_id, ())),
        }
        if self.is_pls:
            options |= {
                "estimator": "pls",
                "pls_scheme": self.pls_scheme,
                "consistent": self.consistent,
                "bootstrap": self.resamples,
            }
        else:
            options["estimator"] = self.estimator
        return options


def parse_codes(text: str, *, field: str) -> tuple[float, ...]:
    """``"9, 99"`` (commas, semicolons, spaces or the Chinese comma) as ``(9.0, 99.0)``."""
    problem = InvalidInput(
        "Enter the codes as numbers separated by commas, e.g. 9, 99.", field=field
    )
    codes = []
    for separator in ("，", ",", ";"):
        text = text.replace(separator, " ")
    for part in text.split():
        try:
            code = float(part)
        except ValueError:
            raise problem from None
        if not math.isfinite(code):
            raise problem
        codes.append(code)
    return tuple(dict.fromkeys(codes))


def _choice(form: Mapping[str, str], field: str, choices: Mapping[str, str], message: str) -> str:
    """The form's ``field`` if it is one of ``choices``; else ``message`` at the field."""
    value = form.get(field, "")
    if value not in choices:
        raise InvalidInput(message, field=field)
    return value


def parse_settings(
    form: Mapping[str, str], questionnaire_ids: Sequence[int]
) -> tuple[AnalysisSettings | None, list[InvalidInput]]:
    """The submitted settings, or every problem of the form (each at its field).

    The PLS options are checked only when PLS-SEM is chosen, the estimator only with CB-SEM:
    a researcher switching method is not held up by the other method's fields.
    """
    problems: list[InvalidInput] = []
    defaults = AnalysisSettings()

    def checked(read: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``read(...)``, or None with its problem noted: every field is checked."""
        try:
            return read(*args, **kwargs)
        except InvalidInput as problem:
            problems.append(problem)
            return None

    method = checked(_choice, form, "method", METHODS, N_("Choose CB-SEM or PLS-SEM."))
    estimator, scheme, resamples = defaults.estimator, defaults.pls_scheme, defaults.resamples
    if method == CBSEM:
        estimator = checked(
            _choice, form, "estimator", ESTIMATORS, N_("Choose the estimator: ML, MLR or WLSMV.")
        )
    elif method == PLS:
        scheme = checked(
            _choice,
            form,
            "pls_scheme",
            PLS_SCHEMES,
            N_("Choose the inner weighting scheme: path, centroid or factorial."),
        )
        resamples = checked(_resamples, form.get("resamples", ""))
    codes = {
        questionnaire: checked(
            parse_codes,
            form.get(codes_field(questionnaire), ""),
            field=codes_field(questionnaire),
        )
        for questionnaire in questionnaire_ids
    }
    if problems:
        return None, problems
    return (
        AnalysisSettings(
            method=method,
            estimator=estimator,
            pls_scheme=scheme,
            consistent=method == PLS and form.get("consistent") == "1",
            resamples=resamples,
            missing_codes={questionnaire: c for questionnaire, c in codes.items() if c},
        ),
        [],
    )


def _resamples(value: str) -> int:
    text = value.strip()
    if not (text.isdigit() and int(text) <= MAX_RESAMPLES):
        raise InvalidInput(
            "Enter a whole number of resamples from 0 to %(max)s.",
            field="resamples",
            max=MAX_RESAMPLES,
        )
    return int(text)


def codes_field(questionnaire_id: int) -> str:
    """The form field of a questionnaire's missing-value codes."""
    return f"missing_codes_{questionnaire_id}"
