"""PLS-SEM estimation: :func:`fit_pls` and the tables of :class:`PlsResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from typing import Any, cast

import numpy as np
import pandas as pd

from analysis._checks import require_columns
from analysis.errors import ConvergenceError
from analysis.pls import algorithm
from analysis.pls.algorithm import Estimates, Layout
from analysis.pls.specification import PlsModel, pls_model
from analysis.syntax import ModelSpec

__all__ = ["PlsResult", "PlsSettings", "fit_pls"]

LOADING_MIN = 0.5**0.5
"""Reflective loadings below √.5 (the ".708" of the guidelines) explain less than half of
their item's variance."""


@dataclass(frozen=True)
class PlsSettings:
    """How a PLS path model was estimated.

    Attributes
    ----------
    scheme : {"centroid", "factorial", "path"}
        Inner weighting scheme.
    scaled : bool
        Items standardized (``False``: centred only).
    consistent : bool
        Consistent PLS (PLSc) for the reflective constructs.
    tol : float
        Stop criterion: sum of absolute changes of the outer weights.
    max_iter : int
        Iteration limit.
    """

    scheme: algorithm.Scheme = "path"
    scaled: bool = True
    consistent: bool = False
    tol: float = 1e-7
    max_iter: int = 300

    def estimate(self, covariance: np.ndarray, layout: Layout) -> Estimates:
        """Estimate the model for a stack of covariance matrices with these settings."""
        return algorithm.estimate(
            covariance,
            layout,
            scheme=self.scheme,
            scaled=self.scaled,
            consistent=self.consistent,
            tol=self.tol,
            max_iter=self.max_iter,
        )


@dataclass(frozen=True, eq=False)
class PlsResult:
    """A fitted PLS path model.

    Attributes
    ----------
    model : PlsModel
        The model.
    settings : PlsSettings
        The estimation options.
    values : ndarray (n, p)
        The complete rows the model was estimated from, items in ``model.items`` order.
    n_rows : int
        Rows in the data (``n_rows - n`` had a missing answer and were left out).
    solution : Estimates
        The estimates as arrays (:class:`analysis.pls.algorithm.Estimates`, one sample).
    warnings : list of str
        Inadmissible PLSc results and loadings below .708.
    """

    model: PlsModel
    settings: PlsSettings
    values: np.ndarray = field(repr=False)
    n_rows: int
    solution: Estimates = field(repr=False)
    warnings: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Rows used."""
        return len(self.values)

    @property
    def iterations(self) -> int:
        return int(self.solution.iterations[0])

    @property
    def converged(self) -> bool:
        return bool(self.solution.converged[0])

    @cached_property
    def layout(self) -> Layout:
        return Layout(self.model)

    @cached_property
    def mean(self) -> np.ndarray:
        return self.values.mean(axis=0)

    @cached_property
    def sd(self) -> np.ndarray:
        return self.values.std(axis=0, ddof=1)

    @cached_property
    def covariance(self) -> np.ndarray:
        """The items' covariance matrix (``n - 1`` denominator)."""
        return algorithm.moments(self.values)[1][0]

    @cached_property
    def item_correlation(self) -> np.ndarray:
        return algorithm.correlations(self.covariance[None])[0]

    # Outer model -------------------------------------------------------------------------

    def _item_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "construct": [b.construct for b in self.model.blocks for _ in b.items],
                "item": list(self.model.items),
                "mode": [b.mode for b in self.model.blocks for _ in b.items],
            }
        )

    @cached_property
    def standardized_weights(self) -> np.ndarray:
        """Outer weights of the standardized items."""
        weights = self.solution.weights[0]
        return weights if self.settings.scaled else weights * self.sd

    @cached_property
    def unstandardized_weights(self) -> np.ndarray:
        """Outer weights of the raw items (score = their weighted sum, centred, unit variance)."""
        return self.standardized_weights / self.sd

    def outer(self) -> pd.DataFrame:
        """Weights, loadings, communalities and collinearity of every item.

        Returns
        -------
        pandas.DataFrame
            ``construct, item, mode, weight, loading, communality, vif``: ``weight`` of the
            standardized item (of the centred item when unscaled, as plspm), ``loading`` its
            correlation with the construct score (the consistent loading of a reflective item
            under PLSc), ``vif`` of the item among its block's items.
        """
        loadings = self.solution.loadings[0]
        weights = self.solution.weights[0]
        return self._item_frame().assign(
            weight=weights,
            loading=loadings,
            communality=loadings**2,
            vif=self._outer_vif(),
        )

    def _outer_vif(self) -> np.ndarray:
        vif = np.ones(self.layout.p)
        for items in self.layout.items_of:
            if len(items) > 1:
                block = self.item_correlation[np.ix_(items, items)]
                vif[items] = np.diag(np.linalg.inv(block))
        return vif

    def cross_loadings(self) -> pd.DataFrame:
        """Correlations of every item (rows) with every construct score (columns)."""
        return pd.DataFrame(
            self.solution.cross_loadings[0],
            index=pd.Index(self.model.items, name="item"),
            columns=list(self.model.constructs),
        )

    @cached_property
    def scores(self) -> pd.DataFrame:
        """Construct scores of the rows used: weighted sums of the items, mean 0, SD 1."""
        centred = self.values - self.mean
        working = centred / self.sd if self.settings.scaled else centred
        w_matrix = self.solution.weights[0][:, None] * self.layout.member
        return pd.DataFrame(working @ w_matrix, columns=list(self.model.constructs))

    # Inner model -------------------------------------------------------------------------

    def latent_correlations(self) -> pd.DataFrame:
        """The construct correlations the paths come from (corrected for attenuation by PLSc)."""
        names = list(self.model.constructs)
        return pd.DataFrame(self.solution.correlation[0], index=names, columns=names)

    def paths(self) -> pd.DataFrame:
        """Path coefficients: ``from, to, path``, in syntax order."""
        matrix = self.solution.path_matrix[0]
        names = self.model.constructs
        return pd.DataFrame(
            [
                {"from": names[a], "to": names[b], "path": matrix[a, b]}
                for a, b in self.layout.path_index
            ]
        )

    @cached_property
    def effect_pairs(self) -> list[tuple[int, int]]:
        """``(from, to)`` positions of every pair joined by a directed path, in causal order."""
        reach = algorithm.total_effects(self.layout.adjacency[None])[0] != 0
        position = {name: j for j, name in enumerate(self.model.constructs)}
        order = [position[name] for name in self.model.order]
        return [(a, b) for a in order for b in order if reach[a, b]]

    def effects(self) -> pd.DataFrame:
        """Direct, indirect and total effects: ``from, to, direct, indirect, total``."""
        direct = self.solution.path_matrix[0]
        total = self.solution.total[0]
        names = self.model.constructs
        return pd.DataFrame(
            [
                {
                    "from": names[a],
                    "to": names[b],
                    "direct": direct[a, b],
                    "indirect": total[a, b] - direct[a, b],
                    "total": total[a, b],
                }
                for a, b in self.effect_pairs
            ],
            columns=["from", "to", "direct", "indirect", "total"],
        )

    def r2(self) -> pd.DataFrame:
        """R-squared and adjusted R-squared of every endogenous construct."""
        rows = []
        for j in self.layout.endogenous:
            value = self.solution.r2[0, j]
            predictors = len(self.layout.predecessors[j])
            adjusted = 1 - (1 - value) * (self.n - 1) / (self.n - predictors - 1)
            rows.append({"construct": self.model.constructs[j], "r2": value, "r2_adj": adjusted})
        return pd.DataFrame(rows, columns=["construct", "r2", "r2_adj"])

    def inner_vif(self) -> pd.DataFrame:
        """Collinearity of the predictors of every endogenous construct: ``from, to, vif``.

        From the construct correlations the paths are estimated from, so under PLSc from the
        corrected ones (seminr uses the composite scores' correlations instead).
        """
        correlation = self.solution.correlation[0]
        names = self.model.constructs
        rows: list[dict[str, Any]] = []
        for j in self.layout.endogenous:
            before = self.layout.predecessors[j]
            vif = np.diag(np.linalg.inv(correlation[np.ix_(before, before)]))
            rows.extend(
                {"from": names[a], "to": names[j], "vif": v}
                for a, v in zip(before, vif, strict=True)
            )
        return pd.DataFrame(rows, columns=["from", "to", "vif"])

    def f_squared(self) -> pd.DataFrame:
        """Cohen's f² of every path, the model re-estimated without it (as seminr).

        ``f² = (R²_included - R²_excluded) / (1 - R²_included)`` for the path's outcome.
        """
        r2 = dict(zip(self.model.constructs, self.solution.r2[0], strict=True))
        rows = []
        for predictor, outcome in self.model.paths:
            reduced = self.model.without_path(predictor, outcome)
            if outcome in reduced.endogenous:
                kept = [self.model.items.index(item) for item in reduced.items]
                refit = self.settings.estimate(
                    self.covariance[np.ix_(kept, kept)][None], Layout(reduced)
                )
                excluded = refit.r2[0, reduced.constructs.index(outcome)]
            else:
                excluded = 0.0
            rows.append(
                {
                    "from": predictor,
                    "to": outcome,
                    "f2": (r2[outcome] - excluded) / (1 - r2[outcome]),
                }
            )
        return pd.DataFrame(rows, columns=["from", "to", "f2"])

    # Quality criteria --------------------------------------------------------------------

    def reliability(self) -> pd.DataFrame:
        """Internal consistency and convergent validity of every block.

        Returns
        -------
        pandas.DataFrame
            ``construct, mode, n_items, alpha, rho_a, rho_c, ave``: Cronbach's alpha of the
            standardized items, Dijkstra-Henseler's rho_A, composite reliability rho_C
            ``(Σλ)² / ((Σλ)² + Σ(1 - λ²))`` and AVE ``mean(λ²)`` from the loadings (consistent
            loadings under PLSc). NaN for composites (mode B), whose indicators need not
            correlate; 1 for single items.
        """
        rows = []
        for j, block in enumerate(self.model.blocks):
            items = self.layout.items_of[j]
            row = {"construct": block.construct, "mode": block.mode, "n_items": len(items)}
            if block.mode == "B":
                row |= dict.fromkeys(("alpha", "rho_a", "rho_c", "ave"), np.nan)
            elif len(items) == 1:
                row |= dict.fromkeys(("alpha", "rho_a", "rho_c", "ave"), 1.0)
            else:
                loadings = self.solution.loadings[0, items]
                correlation = self.item_correlation[np.ix_(items, items)]
                k = len(items)
                row |= {
                    "alpha": k / (k - 1) * (1 - k / correlation.sum()),
                    "rho_a": self.solution.rho_a[0, j],
                    "rho_c": loadings.sum() ** 2 / (loadings.sum() ** 2 + (1 - loadings**2).sum()),
                    "ave": (loadings**2).mean(),
                }
            rows.append(row)
        return pd.DataFrame(rows)

    def htmt(self, *, geometric: bool = False) -> pd.DataFrame:
        """Heterotrait-monotrait ratio of every pair of constructs: ``construct_a,
        construct_b, htmt`` (``geometric``: HTMT2, see :func:`analysis.pls.algorithm.htmt`)."""
        ratio = algorithm.htmt(self.item_correlation[None], self.layout, geometric=geometric)[0]
        names = self.model.constructs
        return pd.DataFrame(
            [
                {"construct_a": names[a], "construct_b": names[b], "htmt": ratio[a, b]}
                for a, b in combinations(range(self.layout.k), 2)
            ],
            columns=["construct_a", "construct_b", "htmt"],
        )

    def fornell_larcker(self) -> pd.DataFrame:
        """√AVE on the diagonal (reflective blocks), construct correlations off it."""
        matrix = self.latent_correlations()
        ave = self.reliability().set_index("construct")["ave"]
        for name in matrix.index:
            matrix.loc[name, name] = np.sqrt(ave[name])
        return matrix

    @cached_property
    def gof(self) -> float:
        """Tenenhaus et al.'s goodness of fit: √(mean communality × mean R²).

        The communality is averaged over the items of multi-item blocks (weighted by block
        size, as plspm), R² over the endogenous constructs. NaN without multi-item blocks.
        """
        loadings = self.solution.loadings[0]
        multi = [items for items in self.layout.items_of if len(items) > 1]
        if not multi:
            return float("nan")
        communality = np.mean(np.concatenate([loadings[items] ** 2 for items in multi]))
        r2 = self.solution.r2[0, self.layout.endogenous].mean()
        return float(np.sqrt(communality * r2))

    # Parameter table ---------------------------------------------------------------------

    def parameter_values(self) -> dict[str, float]:
        """Every labelled estimate and defined parameter by name."""
        values = {label: self._value(*row) for label, row in self.model.labels.items()}
        for parameter in self.model.defined:
            values[parameter.name] = parameter.expression.evaluate(values)
        return values

    def _value(self, lhs: str, op: str, rhs: str) -> float:
        names = self.model.constructs
        if op == "~":
            return float(self.solution.path_matrix[0, names.index(rhs), names.index(lhs)])
        item = self.model.items.index(rhs)
        source = self.solution.loadings if op == "=~" else self.solution.weights
        return float(source[0, item])

    def estimates(self) -> pd.DataFrame:
        """The model's parameters as lavaan lists them: ``lhs, op, rhs, label, est``.

        ``=~`` rows are loadings, ``<~`` rows weights, ``~`` rows path coefficients (all
        standardized) and ``:=`` rows defined parameters, in syntax order.
        """
        rows: list[dict[str, Any]] = []
        labels = {row: label for label, row in self.model.labels.items()}
        for block in self.model.blocks:
            if block.implicit:
                continue
            op = "=~" if block.mode == "A" else "<~"
            rows.extend(
                {"lhs": block.construct, "op": op, "rhs": item, "label": ""} for item in block.items
            )
        rows.extend({"lhs": b, "op": "~", "rhs": a, "label": ""} for a, b in self.model.paths)
        for row in rows:
            row["label"] = labels.get((row["lhs"], row["op"], row["rhs"]), "")
            row["est"] = self._value(row["lhs"], row["op"], row["rhs"])
        values = self.parameter_values()
        rows.extend(
            {"lhs": d.name, "op": ":=", "rhs": d.expression.text, "label": d.name,
             "est": values[d.name]}
            for d in self.model.defined
        )  # fmt: skip
        return pd.DataFrame(rows, columns=["lhs", "op", "rhs", "label", "est"])


def fit_pls(
    data: pd.DataFrame,
    model: str | ModelSpec | PlsModel,
    *,
    scheme: str = "path",
    scaled: bool = True,
    consistent: bool = False,
    tol: float = 1e-7,
    max_iter: int = 300,
) -> PlsResult:
    """Estimate a PLS path model (PLS-SEM), optionally consistent PLS.

    Lohmöller's algorithm: starting from unit weights, each construct's score (the weighted
    sum of its items, unit variance) is approximated by an inner proxy from its neighbours in
    the structural model (inner weighting scheme), and the outer weights are re-estimated from
    the proxy — correlation weights for reflective blocks (mode A, ``=~``), regression weights
    for composites (mode B, ``<~``) — until they change by less than ``tol`` in sum. Paths are
    OLS regressions of the scores. With ``consistent``, the correlations of reflective
    constructs are corrected for attenuation by rho_A and their loadings made consistent
    before the paths are estimated (PLSc).

    Parameters
    ----------
    data : pandas.DataFrame
        The items; rows with a missing answer to any of the model's items are left out.
    model : str, ModelSpec or PlsModel
        lavaan syntax: ``=~`` reflective blocks, ``<~`` composites, ``~`` paths (see
        :func:`analysis.pls.pls_model`).
    scheme : {"path", "factorial", "centroid"}
        Inner weighting: path weighting (SmartPLS's and seminr's default), factorial or
        centroid (R plspm's default).
    scaled : bool
        Standardize the items (default); ``False`` only centres them (plspm's
        ``scaled = FALSE``), so the weights are those of the centred items.
    consistent : bool
        Consistent PLS (Dijkstra & Henseler, 2015) for the reflective constructs.
    tol : float
        Stop criterion, as SmartPLS and seminr: the outer weights (of standardized items)
        change by less than this in sum.
    max_iter : int
        Iteration limit.

    Returns
    -------
    PlsResult

    Raises
    ------
    ValueError
        Unknown or non-numeric columns, items without variance, too few complete rows, a
        singular composite block, and :class:`analysis.errors.ConvergenceError` when the
        weights do not settle within ``max_iter`` iterations.

    References
    ----------
    Lohmöller, J.-B. (1989). *Latent variable path modeling with partial least squares*.
    Physica-Verlag.

    Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M., & Lauro, C. (2005). PLS path modeling.
    *Computational Statistics & Data Analysis*, 48(1), 159-205.

    Dijkstra, T. K., & Henseler, J. (2015). Consistent partial least squares path modeling.
    *MIS Quarterly*, 39(2), 297-316.

    Hair, J. F., Hult, G. T. M., Ringle, C. M., & Sarstedt, M. (2022). *A primer on partial
    least squares structural equation modeling (PLS-SEM)* (3rd ed.). Sage.

    Examples
    --------
    >>> rng = np.random.default_rng(7)
    >>> sat = rng.standard_normal(300)
    >>> loy = 0.6 * sat + 0.8 * rng.standard_normal(300)
    >>> items = {f"s{i}": sat + rng.standard_normal(300) * 0.6 for i in (1, 2, 3)}
    >>> items |= {f"l{i}": loy + rng.standard_normal(300) * 0.6 for i in (1, 2)}
    >>> fit = fit_pls(pd.DataFrame(items), "SAT =~ s1 + s2 + s3\\nLOY =~ l1 + l2\\nLOY ~ SAT")
    >>> fit.paths().round(2).to_dict("records")
    [{'from': 'SAT', 'to': 'LOY', 'path': 0.53}]
    >>> fit.converged, fit.iterations < 10
    (True, True)
    """
    if scheme not in algorithm.SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(algorithm.SCHEMES)}, not {scheme!r}")
    if not (isinstance(tol, float | int) and 0 < tol < 1e-2):
        raise ValueError(f"tol must be a small positive number, not {tol!r}")
    if not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive whole number, not {max_iter!r}")
    require_columns(data, [], numeric=False)
    if not isinstance(model, PlsModel):
        model = pls_model(model, columns=data.columns)
    require_columns(data, list(model.items))
    settings = PlsSettings(
        scheme=cast(algorithm.Scheme, scheme),  # checked against SCHEMES above
        scaled=bool(scaled),
        consistent=bool(consistent),
        tol=tol,
        max_iter=max_iter,
    )
    values = data[list(model.items)].to_numpy(dtype=float)
    complete = values[~np.isnan(values).any(axis=1)]
    check_sample(complete, model)
    layout = Layout(model)
    estimates = settings.estimate(algorithm.moments(complete)[1], layout)
    if not estimates.converged[0]:
        raise ConvergenceError(
            f"the PLS weights did not settle within {max_iter} iterations; try another "
            "inner weighting scheme or a larger iteration limit"
        )
    result = PlsResult(
        model=model, settings=settings, values=complete, n_rows=len(values), solution=estimates
    )
    result.warnings.extend(_warnings(result))
    return result


def check_sample(values: np.ndarray, model: PlsModel) -> None:
    """Refuse data PLS cannot estimate from: too few rows, constant items, singular blocks."""
    largest = max(len(block.items) for block in model.blocks)
    if len(values) < max(3, largest + 1):
        raise ValueError(
            f"PLS needs more complete rows than items in a block: {len(values)} complete rows"
        )
    constant = [item for item, sd in zip(model.items, values.std(axis=0), strict=True) if sd == 0]
    if constant:
        raise ValueError(f"these items have no variance: {', '.join(map(repr, constant))}")
    start = 0
    for block in model.blocks:
        stop = start + len(block.items)
        if block.mode == "B" and len(block.items) > 1:
            correlation = np.corrcoef(values[:, start:stop], rowvar=False)
            if np.linalg.cond(correlation) > 1e12:
                raise ValueError(
                    f"the indicators of composite '{block.construct}' are linearly dependent; "
                    "drop a redundant one"
                )
        start = stop


def _warnings(result: PlsResult) -> list[str]:
    messages = []
    layout, estimates = result.layout, result.solution
    names = result.model.constructs
    if result.settings.consistent:
        for j in layout.reflective:
            if estimates.rho_a[0, j] > 1:
                messages.append(
                    f"rho_A of {names[j]} exceeds 1 ({estimates.rho_a[0, j]:.3f}): its "
                    "consistent estimates are not admissible"
                )
        off = estimates.correlation[0][~np.eye(layout.k, dtype=bool)]
        if np.any(np.abs(off) > 1):
            messages.append("a consistent construct correlation exceeds 1 in absolute value")
    for item, construct, loading in zip(
        result.model.items, layout.block, estimates.loadings[0], strict=True
    ):
        reflective = construct in layout.reflective
        if reflective and abs(loading) < LOADING_MIN:
            messages.append(
                f"loading of {item} on {names[construct]} is {loading:.3f}, below .708: the "
                "construct explains less than half of the item's variance"
            )
    return messages
