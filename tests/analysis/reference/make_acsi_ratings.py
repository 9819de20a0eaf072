"""Generate the simulated ACSI survey with 0-10 ratings: skewed, heavy-tailed, incomplete.

The robust estimators (MLR, MLM) are checked against lavaan on data whose non-normality is that
of real customer-satisfaction ratings: most answers at 8-10 (strong negative skew), a few
respondents at the bottom of the scale (heavy tails), and items skipped more often by the less
loyal. Population model (Fornell et al., 1996), standardized latent variables:

* CE (customer expectations) exogenous;
* PQ = .60 CE; PV = .20 CE + .50 PQ; SAT = .10 CE + .45 PQ + .35 PV;
* COMP (complaint handling, reversed: few complaints) = .40 SAT;
  LOY = .50 SAT + .25 COMP + .15 CE.

The CE -> LOY path and a cross-loading of ``pv3`` on PQ are left out of the analysis model: a
realistic, moderate misfit that modification indices point to.

The analysis model is ``acsi.lavaan`` beside this script. Items: three per construct
(``ce1``-``ce3`` ... ``loy1``-``loy3``), 0-10 rating scales. The latent scores and errors are
drawn from a t distribution with 5 df (heavy tails); ratings are cut at thresholds that put
about 60% of the answers at 8 or above. Respondents come from three
channels (``channel``: online, store, phone); in the store channel ``pv2`` reads about 1.2
points higher at the same perceived value (a non-invariant intercept, for partial invariance
tests). About 3% of the answers are missing (more often among the less loyal).

Deterministic: the same file comes out on every run. Run
``python tests/analysis/reference/make_acsi_ratings.py`` to rewrite
``tests/analysis/data/acsi_ratings.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

MODEL = (Path(__file__).with_name("acsi.lavaan")).read_text(encoding="utf-8")
SEED = 20260301
N = 1500
DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "acsi_ratings.csv"

CONSTRUCTS = ("CE", "PQ", "PV", "SAT", "COMP", "LOY")
LOADINGS = {
    "CE": (0.72, 0.80, 0.66),
    "PQ": (0.84, 0.78, 0.74),
    "PV": (0.81, 0.77, 0.69),
    "SAT": (0.88, 0.83, 0.79),
    "COMP": (0.70, 0.76, 0.64),
    "LOY": (0.86, 0.74, 0.80),
}
PATHS = {  # outcome -> {predictor: standardized coefficient}
    "PQ": {"CE": 0.60},
    "PV": {"CE": 0.20, "PQ": 0.50},
    "SAT": {"CE": 0.10, "PQ": 0.45, "PV": 0.35},
    "COMP": {"SAT": 0.40},
    "LOY": {"SAT": 0.50, "COMP": 0.25, "CE": 0.15},
}
# Cut points of a standardized response into 0-10: a satisfaction-rating shape.
CUTS = np.array([-2.5, -2.15, -1.85, -1.55, -1.25, -0.95, -0.65, -0.3, 0.1, 0.6])
CHANNELS = ("online", "store", "phone")
STORE_PV2_SHIFT = 0.55  # in standardized units, about 1.2 rating points
PV3_ON_PQ = 0.45


def _t5(rng: np.random.Generator, size) -> np.ndarray:
    """Student t with 5 df scaled to unit variance."""
    return rng.standard_t(5, size) / np.sqrt(5 / 3)


def simulate(seed: int = SEED, n: int = N, *, missing_share: float = 0.03) -> pd.DataFrame:
    """The simulated survey: one row per respondent, 0-10 ratings, NaN when skipped."""
    rng = np.random.default_rng(seed)
    latent: dict[str, np.ndarray] = {"CE": _t5(rng, n)}
    for outcome, predictors in PATHS.items():
        systematic = sum(beta * latent[name] for name, beta in predictors.items())
        residual_sd = np.sqrt(max(1 - np.var(systematic), 0.1))
        latent[outcome] = systematic + residual_sd * _t5(rng, n)
    channel = rng.choice(CHANNELS, size=n, p=[0.45, 0.35, 0.20])

    items: dict[str, np.ndarray] = {}
    for construct in CONSTRUCTS:
        for k, loading in enumerate(LOADINGS[construct], start=1):
            name = f"{construct.lower()}{k}"
            response = loading * latent[construct] + np.sqrt(1 - loading**2) * _t5(rng, n)
            if name == "pv2":
                response = response + STORE_PV2_SHIFT * (channel == "store")
            if name == "pv3":  # also reads as quality: a cross-loading the model leaves out
                response = response + PV3_ON_PQ * latent["PQ"]
            items[name] = np.searchsorted(CUTS, response).astype(float)
    data = pd.DataFrame(items)

    # Less loyal respondents skip more (missing at random given their other answers).
    skip = np.exp(-0.5 * latent["LOY"])[:, None] * np.ones((1, data.shape[1]))
    skip *= missing_share / skip.mean()
    data = data.mask(rng.random(data.shape) < skip).astype("Int64")
    data.insert(0, "respondent", np.arange(1, n + 1))
    data["channel"] = channel
    return data


def main() -> None:
    data = simulate()
    DATA_FILE.parent.mkdir(parents=True, exist_ok=True)
    data.to_csv(DATA_FILE, index=False)
    print(f"wrote {DATA_FILE} ({len(data)} rows)")


if __name__ == "__main__":
    main()
