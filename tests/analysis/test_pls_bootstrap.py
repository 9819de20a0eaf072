"""PLS bootstrap: reproducibility, standard errors and intervals against 5,000-resample runs of
R plspm and seminr with R's boot package (pls_reference.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.pls import fit_pls
from analysis.pls.bootstrap import bootstrap_pls
from tests.analysis.pls_support import ECSI_MODEL, ecsi, mobi, reference

N_BOOT = 5000


def _ours(boot, kind: str) -> pd.DataFrame:
    """Our bootstrap table for one of the reference's statistic kinds, indexed like it."""
    if kind in ("weight", "loading"):
        return getattr(boot, f"{kind}s").set_index(["construct", "item"])
    return getattr(boot, "paths" if kind == "path" else "total").set_index(["from", "to"])


def _compare(boot, expected: dict, *, weight_scale: float = 1.0) -> dict[str, float]:
    """Largest relative SE difference and largest interval differences in SEs, by kind."""
    worst: dict[str, float] = {}
    for row in expected["statistics"]:
        if row["se"] < 1e-9:
            continue  # a single item's weight and loading are always 1
        table = _ours(boot, row["kind"])
        ours = table.loc[(row["a"], row["b"])]
        scale = weight_scale if row["kind"] == "weight" else 1.0
        assert ours["original"] * scale == pytest.approx(row["original"], abs=1e-5)
        se = row["se"]
        differences = {
            "se": abs(ours["se"] * scale / se - 1),
            "percentile": max(abs(ours["ci_lower"] * scale - row["perc_lower"]),
                              abs(ours["ci_upper"] * scale - row["perc_upper"])) / se,
            "bca": max(abs(ours["bca_lower"] * scale - row["bca_lower"]),
                       abs(ours["bca_upper"] * scale - row["bca_upper"])) / se,
        }  # fmt: skip
        for name, value in differences.items():
            key = f"{row['kind']} {name}"
            worst[key] = max(worst.get(key, 0.0), value)
    return worst


# Two independent sets of 5,000 resamples: standard errors agree within 10% (asked; reached:
# 3% on ECSI, 5.4% on mobi); interval ends differ by their Monte Carlo error, about 0.1 SE per
# run at the 2.5% and 97.5% quantiles and more in the long tails BCa moves to (reached: 0.18 SE
# for percentile, 0.29 SE for BCa ends, both in skewed loadings).
ALLOWED = {"se": 0.10, "percentile": 0.25, "bca": 0.35}


def _assert_agreement(worst: dict[str, float]) -> None:
    assert {key.split()[0] for key in worst} == {"weight", "loading", "path", "total"}
    for key, value in worst.items():
        assert value < ALLOWED[key.split()[1]], (key, value)


@pytest.mark.slow
def test_ecsi_bootstrap_agrees_with_plspm_and_boot():
    """plspm's ECSI model (centroid, centred items), 5,000 resamples on both sides."""
    fit = fit_pls(ecsi(), ECSI_MODEL, scheme="centroid", scaled=False)
    boot = bootstrap_pls(fit, n_boot=N_BOOT, seed=2024)
    assert boot.n_ok == N_BOOT
    expected = reference()["ecsi"]["bootstrap"]
    assert expected["n_boot"] == N_BOOT
    # plspm's unscaled weights are larger by √(n/(n-1)) (see pls_published/README.md).
    worst = _compare(boot, expected, weight_scale=np.sqrt(250 / 249))
    _assert_agreement(worst)


@pytest.mark.slow
def test_mobi_bootstrap_with_a_composite_agrees_with_seminr_and_boot():
    """seminr's mobi ECSI model with Quality a mode B composite, path weighting."""
    fit = fit_pls(mobi(), reference()["mobi"]["composite_model"])
    boot = bootstrap_pls(fit, n_boot=N_BOOT, seed=2025)
    expected = reference()["mobi"]["bootstrap"]
    _assert_agreement(_compare(boot, expected))


def test_bca_acceleration_is_the_jackknife_one_r_computes():
    """The acceleration depends on the data only (leave-one-out fits), not on resampling: it
    equals boot's from plspm's jackknife to the convergence tolerance."""
    fit = fit_pls(ecsi(), ECSI_MODEL, scheme="centroid", scaled=False)
    boot = bootstrap_pls(fit, n_boot=100, seed=3, n_jobs=1)
    expected = reference()["ecsi"]["bootstrap"]["statistics"]
    checked = 0
    for row in expected:
        if row["kind"] in ("path", "total", "loading"):
            ours = _ours(boot, row["kind"]).loc[(row["a"], row["b"]), "acceleration"]
            assert ours == pytest.approx(row["acceleration"], abs=1e-5), row
            checked += 1
    assert checked == 10 + 15 + 27


def test_same_seed_same_results_whatever_the_number_of_workers():
    """Identical resamples and estimates; BLAS may round the last bit differently for arrays at
    different memory addresses, so the comparison allows 1e-12 (relative)."""
    fit = fit_pls(mobi(), reference()["mobi"]["composite_model"])
    alone = bootstrap_pls(fit, n_boot=600, seed=7, n_jobs=1)
    shared = bootstrap_pls(fit, n_boot=600, seed=7, n_jobs=2)
    np.testing.assert_allclose(alone.draws, shared.draws, rtol=1e-12, atol=1e-14)
    pd.testing.assert_frame_equal(alone.paths, shared.paths, rtol=1e-12)
    other = bootstrap_pls(fit, n_boot=600, seed=8, n_jobs=1)
    assert not np.allclose(alone.draws, other.draws)
    # A longer run starts with the same resamples.
    longer = bootstrap_pls(fit, n_boot=700, seed=7, n_jobs=1)
    np.testing.assert_allclose(longer.draws[:600], alone.draws, rtol=1e-12, atol=1e-14)


def test_defined_parameters_indirect_effects_and_progress():
    model = """
    SAT =~ CUSA1 + CUSA2 + CUSA3
    VAL =~ PERV1 + PERV2
    LOY =~ CUSL1 + CUSL3
    VAL ~ a*SAT
    LOY ~ b*VAL + SAT
    ind := a*b
    """
    fit = fit_pls(mobi(), model)
    seen = []
    boot = bootstrap_pls(
        fit, n_boot=300, seed=1, n_jobs=1, progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(250, 300), (300, 300)]
    defined = boot.defined.set_index("name").loc["ind"]
    indirect = boot.indirect.set_index(["from", "to"]).loc[("SAT", "LOY")]
    # One indirect route: the defined product is the indirect effect, resample by resample.
    for column in ("original", "se", "ci_lower", "ci_upper", "bca_lower", "bca_upper"):
        assert defined[column] == pytest.approx(indirect[column], abs=1e-12)
    assert list(boot.indirect[["from", "to"]].itertuples(index=False, name=None)) == [
        ("SAT", "LOY")
    ]
    assert set(boot.total[["from", "to"]].itertuples(index=False, name=None)) == {
        ("SAT", "VAL"), ("SAT", "LOY"), ("VAL", "LOY"),
    }  # fmt: skip


def test_single_items_have_no_t_value():
    fit = fit_pls(mobi(), reference()["mobi"]["composite_model"])
    boot = bootstrap_pls(fit, n_boot=50, seed=1, n_jobs=1)
    single = boot.weights.set_index("item").loc["CUSCO"]
    assert (single["original"], single["ci_lower"], single["ci_upper"]) == pytest.approx((1, 1, 1))
    assert np.isnan(single["t"]) and np.isnan(single["pvalue"])
    assert np.isfinite(boot.weights.set_index("item").loc["IMAG1", "t"])


def test_resamples_that_cannot_be_estimated_are_left_out():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(40)
    data = pd.DataFrame(
        {
            "x1": x + rng.standard_normal(40) * 0.5,
            "x2": x + rng.standard_normal(40) * 0.5,
            # Answered 1 by two respondents only: resamples without them have no variance.
            "rare": np.r_[1.0, 1.0, np.zeros(38)],
            "y1": x + rng.standard_normal(40),
        }
    )
    fit = fit_pls(data, "X =~ x1 + x2\nR =~ rare\nY =~ y1\nY ~ X + R")
    boot = bootstrap_pls(fit, n_boot=300, seed=4, n_jobs=1)
    failed = ~np.isfinite(boot.draws).all(axis=1)
    assert 0 < failed.sum() == boot.n_boot - boot.n_ok
    ok = boot.draws[~failed]
    paths = boot.paths.set_index(["from", "to"])
    first_path = 2 * fit.layout.p
    assert paths.loc[("X", "Y"), "se"] == pytest.approx(ok[:, first_path].std(ddof=1))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_boot": 1}, "n_boot must be a whole number of resamples >= 2"),
        ({"n_boot": 2.5}, "n_boot must be a whole number"),
        ({"n_jobs": 0}, "n_jobs must be a positive whole number"),
        ({"confidence": 1.2}, "confidence must lie between 0 and 1"),
    ],
)
def test_option_errors(options, message):
    fit = fit_pls(mobi(), "S =~ CUSA1 + CUSA2\nL =~ CUSL1 + CUSL3\nL ~ S")
    with pytest.raises(ValueError, match=message):
        bootstrap_pls(fit, **options)
