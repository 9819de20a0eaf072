"""Predictive relevance of a PLS path model: blindfolding Q² and PLSpredict.

Both predict items of endogenous constructs from composite scores, so both use the PLS
estimates (without the PLSc correction, which concerns the latent variables behind the
composites, not the composites' predictions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis.pls import algorithm
from analysis.pls.estimation import PlsResult

__all__ = ["PlsPrediction", "blindfolding", "plspredict"]


def blindfolding(result: PlsResult, *, omission_distance: int = 7) -> pd.DataFrame:
    """Stone-Geisser's Q² of every endogenous construct by blindfolding (cross-validated
    redundancy).

    For each endogenous construct, the cells of its items are counted down the first item's
    column, then the next item's, and every ``omission_distance``-th one is left out in turn:
    in round ``d`` the cells ``d, d + D, d + 2D, ...`` are replaced by the mean of the column's
    other cells, the model is
    re-estimated, and each left-out answer is predicted from the construct's predecessors,
    ``x̂ = mean + sd × loading × Σ path × predecessor score``. With the prediction errors and
    the deviations from the item means (both in standard deviations of the item) summed over
    all rounds, ``Q² = 1 - SSE / SSO`` (Hair et al., 2022, ch. 6; SmartPLS's blindfolding).
    Q² above 0 shows predictive relevance; .25 and .50 medium and large.

    Parameters
    ----------
    result : PlsResult
        The fitted model.
    omission_distance : int
        D, between 5 and 12 by convention (7 by default); one that divides the number of rows
        would leave out the same rows of every item, which is refused.

    Returns
    -------
    pandas.DataFrame
        ``construct, sse, sso, q2``, one row per endogenous construct.

    References
    ----------
    Stone, M. (1974). Cross-validatory choice and assessment of statistical predictions.
    *Journal of the Royal Statistical Society B*, 36(2), 111-147.

    Geisser, S. (1974). A predictive approach to the random effect model. *Biometrika*,
    61(1), 101-107.

    Hair, J. F., Hult, G. T. M., Ringle, C. M., & Sarstedt, M. (2022). *A primer on partial
    least squares structural equation modeling (PLS-SEM)* (3rd ed.). Sage.
    """
    values, n = result.values, result.n
    if not isinstance(omission_distance, int) or not 2 <= omission_distance < n:
        raise ValueError(
            f"omission_distance must be a whole number from 2 to the number of rows - 1, "
            f"not {omission_distance!r}"
        )
    if n % omission_distance == 0:
        raise ValueError(
            f"omission distance {omission_distance} divides the {n} rows, so the same answers "
            "of every item would be left out together; choose another (e.g. 7 or 9)"
        )
    layout = result.layout
    settings = replace(result.settings, consistent=False)
    samples, omitted = [], []
    for j in layout.endogenous:
        items = layout.items_of[j]
        cell = np.arange(len(items))[None, :] * n + np.arange(n)[:, None]
        for d in range(omission_distance):
            mask = cell % omission_distance == d
            if not mask.any():
                continue
            blinded = values.copy()
            block = blinded[:, items]
            kept_mean = np.nanmean(np.where(mask, np.nan, block), axis=0)
            blinded[:, items] = np.where(mask, kept_mean, block)
            samples.append(blinded)
            omitted.append((j, mask))
    stacked = np.stack(samples)
    mean = stacked.mean(axis=1)
    sd = stacked.std(axis=1, ddof=1)
    covariance = np.stack([algorithm.moments(sample)[1][0] for sample in samples])
    estimates = settings.estimate(covariance, layout)
    working = (stacked - mean[:, None, :]) / (sd[:, None, :] if settings.scaled else 1.0)
    scores = working @ (estimates.weights[:, :, None] * layout.member)
    correlation_loadings = (estimates.cross_loadings * layout.member).sum(axis=2)
    full_mean, full_sd = result.mean, result.sd
    totals: dict[int, list[float]] = {j: [0.0, 0.0] for j in layout.endogenous}
    for b, (j, mask) in enumerate(omitted):
        items = layout.items_of[j]
        proxy = scores[b] @ estimates.path_matrix[b, :, j]
        predicted = mean[b, items] + sd[b, items] * correlation_loadings[b, items] * proxy[:, None]
        actual = values[:, items]
        totals[j][0] += (((actual - predicted) / full_sd[items]) ** 2)[mask].sum()
        totals[j][1] += (((actual - full_mean[items]) / full_sd[items]) ** 2)[mask].sum()
    return pd.DataFrame(
        [
            {"construct": result.model.constructs[j], "sse": sse, "sso": sso, "q2": 1 - sse / sso}
            for j, (sse, sso) in totals.items()
        ],
        columns=["construct", "sse", "sso", "q2"],
    )


@dataclass(frozen=True)
class PlsPrediction:
    """PLSpredict results.

    Attributes
    ----------
    items : pandas.DataFrame
        One row per item of an endogenous construct: ``construct, item, q2_predict,
        pls_rmse, pls_mae, lm_rmse, lm_mae``.
    power : str
        Predictive power by Shmueli et al.'s (2019) rule on RMSE: ``"high"`` (PLS below the
        linear model for every item), ``"medium"`` (for most), ``"low"`` (for a minority),
        ``"none"`` (for none, or some Q²_predict not above 0).
    folds, repetitions : int
    seed : int or None
    """

    items: pd.DataFrame
    power: str
    folds: int
    repetitions: int
    seed: int | None


def plspredict(
    result: PlsResult,
    *,
    folds: int | Sequence[object] = 10,
    repetitions: int = 10,
    seed: int | None = None,
) -> PlsPrediction:
    """Out-of-sample predictions of the endogenous items by k-fold cross-validation.

    Each fold is predicted by the model estimated on the other folds: the test rows are
    standardized with the training means and SDs, the exogenous constructs' scores come from
    the training weights, the endogenous scores from them through the training paths
    (earliest antecedents: total effects), and the items from the scores through the
    loadings. The benchmark is a linear regression of each endogenous item on all items of the
    exogenous constructs, fitted on the same training rows. Predictions are averaged over the
    repetitions before RMSE and MAE are computed; ``Q²_predict = 1 - Σ(y - ŷ)² / Σ(y - ȳ)²``
    with ȳ the training mean (Shmueli et al., 2016, 2019).

    Parameters
    ----------
    result : PlsResult
        The fitted model.
    folds : int or sequence
        Number of folds (rows shuffled into equal parts), or one fold label per row used by
        the model (then ``repetitions`` must be 1).
    repetitions : int
        How often the shuffled cross-validation is repeated.
    seed : int, optional
        Seed of the shuffling.

    Returns
    -------
    PlsPrediction

    References
    ----------
    Shmueli, G., Ray, S., Velasquez Estrada, J. M., & Chatla, S. B. (2016). The elephant in
    the room: Predictive performance of PLS models. *Journal of Business Research*, 69(10),
    4552-4564.

    Shmueli, G., Sarstedt, M., Hair, J. F., Cheah, J.-H., Ting, H., Vaithilingam, S., &
    Ringle, C. M. (2019). Predictive model assessment in PLS-SEM: Guidelines for using
    PLSpredict. *European Journal of Marketing*, 53(11), 2322-2347.
    """
    n = result.n
    labels = _fold_labels(folds, repetitions, seed, n)
    model, layout = result.model, result.layout
    exogenous = [j for j in range(layout.k) if j not in layout.endogenous]
    predictors = np.concatenate([layout.items_of[j] for j in exogenous])
    targets = np.concatenate([layout.items_of[j] for j in layout.endogenous])
    splits = [(r, fold) for r, row in enumerate(labels) for fold in np.unique(row)]
    training = np.array([(labels[r] != fold).astype(float) for r, fold in splits])
    mean, covariance = algorithm.moments(result.values, training)
    sd = np.sqrt(np.einsum("bii->bi", covariance))
    if (sd < 1e-12 * np.maximum(np.abs(mean), 1)).any():
        raise ValueError("an item has no variance in a training fold; use fewer folds")
    settings = replace(result.settings, consistent=False)
    estimates = settings.estimate(covariance, layout)
    correlation_loadings = (estimates.cross_loadings * layout.member).sum(axis=2)
    pls = np.zeros((len(labels), n, len(targets)))
    linear = np.zeros_like(pls)
    benchmark = np.zeros_like(pls)
    values = result.values
    for b, (r, fold) in enumerate(splits):
        test = labels[r] == fold
        train = ~test
        working = (values[test] - mean[b]) / (sd[b] if settings.scaled else 1.0)
        scores = working @ (estimates.weights[b][:, None] * layout.member)
        reach = estimates.total[b][np.ix_(exogenous, range(layout.k))]
        proxy = scores[:, exogenous] @ reach  # earliest antecedents, every construct
        item_proxy = proxy[:, layout.block[targets]]
        pls[r, test] = mean[b, targets] + sd[b, targets] * correlation_loadings[b, targets] * (
            item_proxy
        )
        design = np.column_stack([np.ones(train.sum()), values[np.ix_(train, predictors)]])
        coefficients = np.linalg.lstsq(design, values[np.ix_(train, targets)], rcond=None)[0]
        linear[r, test] = (
            np.column_stack([np.ones(test.sum()), values[np.ix_(test, predictors)]]) @ coefficients
        )
        benchmark[r, test] = mean[b, targets]
    actual = values[:, targets]
    pls_error = actual - pls.mean(axis=0)
    lm_error = actual - linear.mean(axis=0)
    naive_error = actual - benchmark.mean(axis=0)
    table = pd.DataFrame(
        {
            "construct": [model.constructs[j] for j in layout.block[targets]],
            "item": [model.items[i] for i in targets],
            "q2_predict": 1 - (pls_error**2).sum(axis=0) / (naive_error**2).sum(axis=0),
            "pls_rmse": np.sqrt((pls_error**2).mean(axis=0)),
            "pls_mae": np.abs(pls_error).mean(axis=0),
            "lm_rmse": np.sqrt((lm_error**2).mean(axis=0)),
            "lm_mae": np.abs(lm_error).mean(axis=0),
        }
    )
    return PlsPrediction(
        items=table,
        power=_predictive_power(table),
        folds=len(np.unique(labels[0])),
        repetitions=len(labels),
        seed=seed,
    )


def _fold_labels(
    folds: int | Sequence[object], repetitions: int, seed: int | None, n: int
) -> np.ndarray:
    """Fold labels ``(repetitions, n)``."""
    if not isinstance(repetitions, int) or repetitions < 1:
        raise ValueError(f"repetitions must be a positive whole number, not {repetitions!r}")
    if isinstance(folds, bool):
        raise ValueError(f"folds must be a number of folds or a label per row, not {folds!r}")
    if isinstance(folds, int | np.integer):
        if not 2 <= folds <= n // 2:
            raise ValueError(f"folds must be between 2 and half the rows ({n // 2}), not {folds}")
        rng = np.random.default_rng(seed)
        labels = np.empty((repetitions, n), dtype=int)
        for r in range(repetitions):
            for fold, rows in enumerate(np.array_split(rng.permutation(n), folds)):
                labels[r, rows] = fold
        return labels
    given = pd.factorize(pd.Series(list(folds)))[0]
    if len(given) != n:
        raise ValueError(f"give one fold label per row used ({n}), not {len(given)}")
    if repetitions != 1:
        raise ValueError("with fold labels given, repetitions must be 1")
    if len(np.unique(given)) < 2:
        raise ValueError("fold labels must name at least two folds")
    return given[None, :]


def _predictive_power(table: pd.DataFrame) -> str:
    if (table["q2_predict"] <= 0).any():
        return "none"
    better = (table["pls_rmse"] < table["lm_rmse"]).mean()
    if better == 1:
        return "high"
    if better > 0.5:
        return "medium"
    return "low" if better > 0 else "none"
