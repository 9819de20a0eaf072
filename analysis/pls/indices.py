"""Customer satisfaction indices (ACSI method) and the importance-performance map of PLS
path models."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._checks import check_scale
from analysis.drivers import importance_performance
from analysis.pls import algorithm
from analysis.pls.estimation import PlsResult

__all__ = ["importance_performance_map", "rescaled_weights", "satisfaction_index"]


def rescaled_weights(result: PlsResult) -> pd.DataFrame:
    """Each item's share of its construct's index: ``construct, item, weight, rescaled``.

    ``weight`` is the unstandardized outer weight (of the raw item), ``rescaled`` that weight
    divided by the sum of its block's, so that the shares sum to 1 (Fornell et al., 1996).
    """
    weights = result.unstandardized_weights
    sums = weights @ result.layout.member
    frame = result.outer()[["construct", "item"]]
    return frame.assign(weight=weights, rescaled=weights / sums[result.layout.block])


def _index_scores(result: PlsResult, scale_min: float, scale_max: float) -> np.ndarray:
    """Construct scores on 0-100: rescaled weights times the items rescaled to 0-100."""
    check_scale(scale_min, scale_max)
    if scale_min is None:
        raise ValueError("satisfaction indices need scale_min and scale_max")
    outside = (result.values < scale_min) | (result.values > scale_max)
    if outside.any():
        items = [result.model.items[i] for i in np.flatnonzero(outside.any(axis=0))]
        raise ValueError(
            f"answers outside the scale {scale_min}-{scale_max} in: {', '.join(items)}"
        )
    shares = rescaled_weights(result)["rescaled"].to_numpy()
    rescaled_items = (result.values - scale_min) / (scale_max - scale_min) * 100
    return rescaled_items @ (shares[:, None] * result.layout.member)


def satisfaction_index(result: PlsResult, *, scale_min: float, scale_max: float) -> pd.Series:
    """The ACSI-style 0-100 index of every construct.

    ``100 × Σ wᵢ (x̄ᵢ - min) / Σ wᵢ (max - min)`` with wᵢ the construct's unstandardized outer
    weights and x̄ᵢ the item means: the weighted mean answer, rescaled so that the lowest
    answer everywhere gives 0 and the highest 100 (Fornell et al., 1996).

    Parameters
    ----------
    result : PlsResult
        The fitted model.
    scale_min, scale_max : float
        Lowest and highest answer of the items' response scale (e.g. 1 and 10).

    Returns
    -------
    pandas.Series
        Construct -> index.

    References
    ----------
    Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J., & Bryant, B. E. (1996). The American
    Customer Satisfaction Index: Nature, purpose, and findings. *Journal of Marketing*, 60(4),
    7-18.

    Examples
    --------
    >>> from analysis.pls import fit_pls
    >>> rng = np.random.default_rng(4)
    >>> sat = rng.integers(5, 11, 200)
    >>> data = pd.DataFrame({"s1": sat, "s2": np.clip(sat - rng.integers(0, 3, 200), 1, 10),
    ...                      "l1": np.clip(sat - rng.integers(0, 4, 200), 1, 10)})
    >>> fit = fit_pls(data, "SAT =~ s1 + s2\\nLOY =~ l1\\nLOY ~ SAT")
    >>> satisfaction_index(fit, scale_min=1, scale_max=10).round(1).to_dict()
    {'SAT': 67.7, 'LOY': 55.8}
    """
    scores = _index_scores(result, scale_min, scale_max)
    return pd.Series(scores.mean(axis=0), index=list(result.model.constructs), name="index")


def importance_performance_map(
    result: PlsResult, *, target: str, scale_min: float, scale_max: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Importance-performance map analysis (IPMA) of a target construct.

    The construct scores are rescaled to 0-100 (:func:`satisfaction_index`); performance is
    their mean, importance the unstandardized total effect on the target, from OLS paths
    between the rescaled scores. At item level, an item's importance is its rescaled weight
    times its construct's total effect and its performance its rescaled mean (Ringle &
    Sarstedt, 2016). Quadrants split at the mean importance and performance of the drivers.

    Parameters
    ----------
    result : PlsResult
        The fitted model.
    target : str
        The endogenous construct to explain (e.g. loyalty).
    scale_min, scale_max : float
        Ends of the response scale.

    Returns
    -------
    constructs : pandas.DataFrame
        ``construct, importance, performance, quadrant`` for every construct with an effect on
        the target, most important first.
    items : pandas.DataFrame
        ``construct, item, importance, performance``.

    References
    ----------
    Ringle, C. M., & Sarstedt, M. (2016). Gain more insight from your PLS-SEM results: The
    importance-performance map analysis. *Industrial Management & Data Systems*, 116(9),
    1865-1886.
    """
    model, layout = result.model, result.layout
    if target not in model.endogenous:
        raise ValueError(f"the IPMA target must be an endogenous construct, not {target!r}")
    scores = _index_scores(result, scale_min, scale_max)
    centred = scores - scores.mean(axis=0)
    covariance = centred.T @ centred / (len(scores) - 1)
    # OLS slopes Σ_PP⁻¹ Σ_Pj from the covariances: unstandardized paths between 0-100 scores.
    paths, _ = algorithm.regressions(covariance[None], layout)
    total = algorithm.total_effects(paths)[0][:, model.constructs.index(target)]
    drivers = [j for j in range(layout.k) if total[j] != 0]
    frame = pd.DataFrame(scores, columns=list(model.constructs))
    constructs = importance_performance(
        frame,
        importance={model.constructs[j]: total[j] for j in drivers},
        scale_min=0,
        scale_max=100,
    )
    shares = rescaled_weights(result)
    item_rows = shares[shares["construct"].isin([model.constructs[j] for j in drivers])]
    rescaled_means = (result.mean - scale_min) / (scale_max - scale_min) * 100
    position = {name: i for i, name in enumerate(model.items)}
    items = pd.DataFrame(
        {
            "construct": item_rows["construct"].to_numpy(),
            "item": item_rows["item"].to_numpy(),
            "importance": [
                share * total[model.constructs.index(construct)]
                for construct, share in zip(
                    item_rows["construct"], item_rows["rescaled"], strict=True
                )
            ],
            "performance": [rescaled_means[position[item]] for item in item_rows["item"]],
        }
    )
    return constructs, items
