"""Generate the simulated loyalty survey used as a lavaan reference dataset.

Population model (standardized latent variables):

* SAT and TRU exogenous, correlated .45;
* VAL = .55 SAT + e;
* LOY = .30 SAT + .45 VAL + .15 TRU + e (the TRU path is left out of the analysis model, so
  the fitted model has a realistic, moderate misfit).

Items: SAT sat1-sat4 (sat4 reverse-keyed, stored raw), VAL val1-val3, TRU tru1-tru3,
LOY loy1-loy3; continuous responses cut into a 7-point agree scale; about 3% of the answers
are missing (mostly at random, more often among the less loyal). Deterministic: the same file
comes out on every run.

Run ``python tests/analysis/reference/make_loyalty_sim.py`` to rewrite
``tests/analysis/data/loyalty_sim.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

# The analysis model fitted to the survey (also in lavaan_reference.R and bench/analysis.py).
MODEL = """
SAT =~ sat1 + sat2 + sat3 + sat4
VAL =~ val1 + val2 + val3
TRU =~ tru1 + tru2 + tru3
LOY =~ loy1 + loy2 + loy3
VAL ~ a*SAT
LOY ~ c*SAT + b*VAL
ind := a*b
total := c + a*b
"""
SEED = 20240611
N = 800
DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "loyalty_sim.csv"

LOADINGS = {
    "SAT": {"sat1": 0.82, "sat2": 0.76, "sat3": 0.71, "sat4": -0.62},
    "VAL": {"val1": 0.80, "val2": 0.74, "val3": 0.66},
    "TRU": {"tru1": 0.78, "tru2": 0.72, "tru3": 0.81},
    "LOY": {"loy1": 0.85, "loy2": 0.79, "loy3": 0.70},
}
# Thresholds on the standardized response scale: a mildly positive (left-skewed) Likert item.
CUTS = np.array([-2.1, -1.5, -0.9, -0.3, 0.45, 1.3])


def simulate(seed: int = SEED, n: int = N, *, missing_share: float = 0.03) -> pd.DataFrame:
    """The simulated survey: one row per respondent, items on a 1-7 scale, NaN when skipped."""
    rng = np.random.default_rng(seed)
    sat, tru_unique = rng.standard_normal((2, n))
    tru = 0.45 * sat + np.sqrt(1 - 0.45**2) * tru_unique
    val = 0.55 * sat + np.sqrt(1 - 0.55**2) * rng.standard_normal(n)
    loy_mean = 0.30 * sat + 0.45 * val + 0.15 * tru
    loy = loy_mean + np.sqrt(max(1 - np.var(loy_mean), 0.2)) * rng.standard_normal(n)
    latent = {"SAT": sat, "VAL": val, "TRU": tru, "LOY": loy}

    items: dict[str, np.ndarray] = {}
    for construct, loadings in LOADINGS.items():
        for item, loading in loadings.items():
            response = loading * latent[construct] + np.sqrt(1 - loading**2) * rng.standard_normal(
                n
            )
            items[item] = 1.0 + np.searchsorted(CUTS, response)
    data = pd.DataFrame(items)

    # ~3% missing answers; the less loyal skip a little more often (MAR on the latent score).
    skip_probability = 0.03 * np.exp(-0.35 * loy)[:, None] * np.ones((1, data.shape[1]))
    skip_probability *= missing_share / skip_probability.mean()
    data = data.mask(rng.random(data.shape) < skip_probability).astype("Int64")
    data.insert(0, "respondent", np.arange(1, n + 1))
    return data


def main() -> None:
    data = simulate()
    DATA_FILE.parent.mkdir(parents=True, exist_ok=True)
    data.to_csv(DATA_FILE, index=False, na_rep="")
    share = data.drop(columns="respondent").isna().to_numpy().mean()
    print(f"wrote {DATA_FILE} ({len(data)} rows, {share:.1%} missing answers)")


if __name__ == "__main__":
    main()
