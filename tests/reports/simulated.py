"""Simulated loyalty surveys for report tests: two waves answering 1-7 items of two constructs."""

from __future__ import annotations

import numpy as np
import pandas as pd

MODEL = """SAT =~ sat1 + sat2 + sat3 + sat4
LOY =~ loy1 + loy2 + loy3 + loy4
LOY ~ SAT
"""


def two_waves(
    *,
    n: tuple[int, int] = (300, 300),
    intercept_shift: float = 0.0,
    seed: int = 5,
) -> pd.DataFrame:
    """Waves 1 and 2 of one population (latent means rise by .3 SD in wave 2).

    ``intercept_shift`` moves item ``sat2``'s intercept in wave 2 only: its answers change with
    no change in satisfaction, which breaks scalar invariance across waves. Every respondent
    also has a ``segment`` ("north" or "south") drawn at random, so segments stay invariant.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for wave, (size, mean) in enumerate(zip(n, (0.0, 0.3), strict=True), start=1):
        factors = rng.multivariate_normal([mean, mean], [[1.0, 0.6], [0.6, 1.0]], size)
        columns: dict[str, np.ndarray] = {}
        for f, prefix in enumerate(("sat", "loy")):
            for i in range(1, 5):
                intercept = 4.0
                if wave == 2 and prefix == "sat" and i == 2:
                    intercept += intercept_shift
                answer = intercept + 1.0 * factors[:, f] + 0.7 * rng.standard_normal(size)
                columns[f"{prefix}{i}"] = np.clip(np.rint(answer), 1, 7)
        frame = pd.DataFrame(columns)
        frame.insert(0, "wave", wave)
        frame["segment"] = rng.choice(["north", "south"], size)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
