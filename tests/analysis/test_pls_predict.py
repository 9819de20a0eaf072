"""Blindfolding Q², PLSpredict, ACSI indices and IPMA against computations in R on seminr's
estimates (pls_reference.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.pls import fit_pls
from analysis.pls.indices import importance_performance_map, satisfaction_index
from analysis.pls.predict import blindfolding, plspredict
from tests.analysis.pls_support import TOL, mobi, reference


@pytest.fixture(scope="module")
def composite():
    """The mobi ECSI model with Quality a composite, path weighting (as seminr)."""
    return fit_pls(mobi(), reference()["mobi"]["composite_model"])


def test_blindfolding_q2_matches_the_r_computation(composite):
    expected = reference()["mobi"]["blindfolding"]
    assert expected["omission_distance"] == 7
    table = blindfolding(composite).set_index("construct")
    assert set(table.index) == set(expected["constructs"])
    for construct, values in expected["constructs"].items():
        for column in ("sse", "sso", "q2"):
            assert table.loc[construct, column] == pytest.approx(values[column], abs=TOL)


def test_blindfolding_ignores_plsc_and_refuses_a_distance_dividing_the_rows(composite):
    consistent = fit_pls(mobi(), reference()["mobi"]["composite_model"], consistent=True)
    pd.testing.assert_frame_equal(blindfolding(consistent), blindfolding(composite))
    with pytest.raises(ValueError, match="omission distance 5 divides the 250 rows"):
        blindfolding(composite, omission_distance=5)
    with pytest.raises(ValueError, match="omission_distance must be a whole number"):
        blindfolding(composite, omission_distance=1)


def test_plspredict_with_fixed_folds_matches_seminr_and_lm(composite):
    expected = pd.DataFrame(reference()["mobi"]["plspredict"]["items"]).set_index("item")
    folds = np.arange(composite.n) % 10
    prediction = plspredict(composite, folds=folds, repetitions=1)
    table = prediction.items.set_index("item")
    assert sorted(table.index) == sorted(expected.index)
    pd.testing.assert_frame_equal(
        table.loc[expected.index, expected.columns], expected, atol=TOL, check_names=False
    )
    assert (prediction.folds, prediction.repetitions) == (10, 1)


def test_plspredict_repetitions_are_reproducible_and_rated(composite):
    first = plspredict(composite, folds=5, repetitions=3, seed=11)
    again = plspredict(composite, folds=5, repetitions=3, seed=11)
    pd.testing.assert_frame_equal(first.items, again.items)
    other = plspredict(composite, folds=5, repetitions=3, seed=12)
    assert not np.allclose(first.items["pls_rmse"], other.items["pls_rmse"])
    table = first.items
    better = (table["pls_rmse"] < table["lm_rmse"]).mean()
    expected = "high" if better == 1 else "medium" if better > 0.5 else "low" if better else "none"
    assert first.power == ("none" if (table["q2_predict"] <= 0).any() else expected)


def test_plspredict_refuses_bad_folds(composite):
    with pytest.raises(ValueError, match="folds must be between 2 and half the rows"):
        plspredict(composite, folds=1)
    with pytest.raises(ValueError, match="give one fold label per row used"):
        plspredict(composite, folds=[0, 1] * 10, repetitions=1)
    with pytest.raises(ValueError, match="with fold labels given, repetitions must be 1"):
        plspredict(composite, folds=np.arange(composite.n) % 4)


def test_acsi_indices_match_the_fornell_formula_in_r(composite):
    expected = reference()["mobi"]["index"]
    index = satisfaction_index(
        composite, scale_min=expected["scale_min"], scale_max=expected["scale_max"]
    )
    assert index.to_dict() == pytest.approx(expected["constructs"], abs=1e-9)


def test_importance_performance_map_matches_r(composite):
    expected = reference()["mobi"]["ipma"]
    constructs, items = importance_performance_map(
        composite, target=expected["target"], scale_min=1, scale_max=10
    )
    by_construct = constructs.set_index("construct")
    assert set(by_construct.index) == {row["construct"] for row in expected["constructs"]}
    for row in expected["constructs"]:
        assert by_construct.loc[row["construct"], "importance"] == pytest.approx(
            row["importance"], abs=1e-9
        )
        assert by_construct.loc[row["construct"], "performance"] == pytest.approx(
            row["performance"], abs=1e-9
        )
    assert constructs["importance"].is_monotonic_decreasing
    by_item = items.set_index("item")
    for row in expected["items"]:
        assert by_item.loc[row["item"], "importance"] == pytest.approx(row["importance"], abs=1e-9)
        assert by_item.loc[row["item"], "performance"] == pytest.approx(
            row["performance"], abs=1e-9
        )


def test_indices_refuse_answers_outside_the_scale_and_exogenous_targets(composite):
    with pytest.raises(ValueError, match="answers outside the scale 2-10 in: IMAG1, IMAG2"):
        satisfaction_index(composite, scale_min=2, scale_max=10)
    with pytest.raises(ValueError, match="the IPMA target must be an endogenous construct"):
        importance_performance_map(composite, target="Image", scale_min=1, scale_max=10)
