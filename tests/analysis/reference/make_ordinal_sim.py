"""Generate the simulated ordinal survey data used as lavaan WLSMV reference datasets.

Two files, deterministic (the same files come out on every run):

* ``ordinal_skewed.csv`` (N = 500): eight 5-point items ``y1``-``y8`` with skewed thresholds
  (most answers in the top two categories, a few empty cells in the two-way tables), four per
  factor (F1, F2 correlated .40), and three continuous items ``x1``-``x3`` that also measure F2
  (for the model mixing ordered and continuous indicators). ``y4`` also loads .35 on F2, which
  the models leave out: a moderate misfit.
* ``loyalty_ordinal.csv`` (N = 600): an 11-item 5-point loyalty survey, SAT ``sat1``-``sat4``,
  VAL ``val1``-``val3``, LOY ``loy1``-``loy4``, with VAL = .55 SAT and
  LOY = .35 SAT + .40 VAL in the population (standardized latent variables); ``val3`` also
  loads .25 on LOY, which the model leaves out.

Run ``python tests/analysis/reference/make_ordinal_sim.py`` to rewrite both files in
``tests/analysis/data/``; ``ordinal_reference.R`` fits them with lavaan (the models are there).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "data"
SEED = 20240917

# Thresholds on the standardized response scale of the skewed items: a satisfied population.
SKEWED_CUTS = np.array([-2.3, -1.6, -0.85, 0.35])
SKEWED_LOADINGS = {
    "F1": {"y1": 0.80, "y2": 0.70, "y3": 0.65, "y4": 0.55},
    "F2": {"y5": 0.75, "y6": 0.70, "y7": 0.60, "y8": 0.50},
}
CONTINUOUS_LOADINGS = {"x1": 0.70, "x2": 0.60, "x3": 0.50}

LOYALTY_CUTS = np.array([-1.9, -1.1, -0.2, 0.9])
LOYALTY_LOADINGS = {
    "SAT": {"sat1": 0.82, "sat2": 0.78, "sat3": 0.72, "sat4": 0.66},
    "VAL": {"val1": 0.80, "val2": 0.75, "val3": 0.68},
    "LOY": {"loy1": 0.85, "loy2": 0.80, "loy3": 0.74, "loy4": 0.62},
}


def _items(
    rng, latent: np.ndarray, loadings: dict[str, float], cuts: np.ndarray, extra=None
) -> dict:
    """Items cut from ``loading * latent + noise`` (unit variance); ``extra`` maps an item to
    a second (cross-loading, other factor) pair added before cutting."""
    extra = extra or {}
    columns = {}
    for item, loading in loadings.items():
        common = loading * latent
        if item in extra:
            cross, other = extra[item]
            common = common + cross * other
        noise = np.sqrt(max(1 - np.var(common), 0.1)) * rng.standard_normal(len(latent))
        columns[item] = 1 + np.searchsorted(cuts, common + noise)
    return columns


def skewed(n: int = 500, seed: int = SEED) -> pd.DataFrame:
    """Eight skewed 5-point items and three continuous items (see the module docstring)."""
    rng = np.random.default_rng(seed)
    f1 = rng.standard_normal(n)
    f2 = 0.40 * f1 + np.sqrt(1 - 0.40**2) * rng.standard_normal(n)
    columns = _items(rng, f1, SKEWED_LOADINGS["F1"], SKEWED_CUTS, extra={"y4": (0.35, f2)})
    columns |= _items(rng, f2, SKEWED_LOADINGS["F2"], SKEWED_CUTS)
    for item, loading in CONTINUOUS_LOADINGS.items():
        noise = np.sqrt(1 - loading**2) * rng.standard_normal(n)
        columns[item] = np.round(50 + 10 * (loading * f2 + noise), 2)
    return pd.DataFrame(columns)


def loyalty(n: int = 600, seed: int = SEED + 1) -> pd.DataFrame:
    """The 11-item ordinal loyalty survey (see the module docstring)."""
    rng = np.random.default_rng(seed)
    sat = rng.standard_normal(n)
    val = 0.55 * sat + np.sqrt(1 - 0.55**2) * rng.standard_normal(n)
    loy_mean = 0.35 * sat + 0.40 * val
    loy = loy_mean + np.sqrt(1 - np.var(loy_mean)) * rng.standard_normal(n)
    columns: dict[str, np.ndarray] = {}
    for construct, latent in (("SAT", sat), ("VAL", val), ("LOY", loy)):
        extra = {"val3": (0.25, loy)} if construct == "VAL" else None
        columns |= _items(rng, latent, LOYALTY_LOADINGS[construct], LOYALTY_CUTS, extra)
    return pd.DataFrame(columns)


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for name, frame in (("ordinal_skewed", skewed()), ("loyalty_ordinal", loyalty())):
        path = DATA / f"{name}.csv"
        frame.to_csv(path, index=False)
        print(f"wrote {path} ({len(frame)} rows)")


if __name__ == "__main__":
    main()
