"""Add segment, wave and NPS columns to the simulated loyalty survey.

Reads ``tests/analysis/data/loyalty_sim.csv`` (see ``make_loyalty_sim.py``) and writes
``tests/analysis/data/loyalty_segments.csv`` with three more columns:

* ``tier`` (gold / silver / bronze), more loyal respondents more often gold, with unequal
  group sizes and spreads: a case for Welch's ANOVA and Games-Howell;
* ``wave`` (1, 2, 3), later waves somewhat more satisfied;
* ``ltr``, likelihood to recommend on 0-10, driven by the loyalty items; missing for ~4%.

Deterministic. Run ``python tests/analysis/reference/make_loyalty_segments.py``, then
``Rscript tests/analysis/reference/stats_reference.R`` to refresh the reference values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240612
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def segments(survey: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """``survey`` with ``tier``, ``wave`` and ``ltr`` columns appended."""
    rng = np.random.default_rng(seed)
    n = len(survey)
    loyalty = survey[["loy1", "loy2", "loy3"]].mean(axis=1).fillna(4.0).to_numpy()
    satisfaction = survey[["sat1", "sat2", "sat3"]].mean(axis=1).fillna(4.0).to_numpy()

    propensity = 0.6 * (loyalty - loyalty.mean()) + rng.standard_normal(n)
    tier = np.select([propensity > 0.9, propensity > -0.2], ["gold", "silver"], "bronze")

    wave_score = 0.5 * (satisfaction - satisfaction.mean()) + rng.standard_normal(n)
    wave = 1 + np.searchsorted(np.quantile(wave_score, [0.35, 0.7]), wave_score)

    ltr = np.clip(np.rint(1.5 * (loyalty - 1) + 0.5 + 1.6 * rng.standard_normal(n)), 0, 10)
    ltr_series = pd.Series(ltr).mask(rng.random(n) < 0.04).astype("Int64")

    out = survey.copy()
    out["tier"] = tier
    out["wave"] = wave
    out["ltr"] = ltr_series.to_numpy()
    return out


def main() -> None:
    survey = pd.read_csv(DATA_DIR / "loyalty_sim.csv").astype("Int64")
    path = DATA_DIR / "loyalty_segments.csv"
    segments(survey).to_csv(path, index=False, na_rep="")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
