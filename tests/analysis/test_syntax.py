"""lavaan model syntax parser."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ModelSyntaxError, ModelTooComplexError
from analysis.syntax import MAX_EXPRESSION_NESTING, measurement_syntax, parse_model

POLITICAL_DEMOCRACY = """
  # measurement model
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 +
           c*y4          ! continued on the next line
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60; dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
"""


def test_measurement_regressions_and_covariances():
    spec = parse_model(POLITICAL_DEMOCRACY)
    assert spec.latent == {
        "ind60": ("x1", "x2", "x3"),
        "dem60": ("y1", "y2", "y3", "y4"),
        "dem65": ("y5", "y6", "y7", "y8"),
    }
    assert spec.regressions == {"dem60": ("ind60",), "dem65": ("ind60", "dem60")}
    assert spec.covariances == (("y1", "y5"), ("y2", "y4"), ("y2", "y6"))
    assert spec.latent_variables == ("ind60", "dem60", "dem65")
    assert spec.observed_variables == (
        *[f"x{i}" for i in (1, 2, 3)],
        *[f"y{i}" for i in range(1, 9)],
    )
    assert spec.labels == ("a", "b", "c")
    y4 = next(row for row in spec.rows if row.rhs == "y4" and row.op == "=~")
    assert (y4.lhs, y4.label, y4.line) == ("dem60", "c", 4)


def test_modifiers_fixed_free_start_and_intercepts():
    spec = parse_model("F =~ NA*x1 + 1*x2 + start(0.7)*x3 + lam*x4\nF ~~ 1*F\nx1 ~ 0*1\ny ~ 1 + x")
    rows = {(r.lhs, r.op, r.rhs): r for r in spec.rows}
    assert rows[("F", "=~", "x1")].free and rows[("F", "=~", "x1")].fixed is None
    assert rows[("F", "=~", "x2")].fixed == 1.0
    assert rows[("F", "=~", "x3")].start == 0.7
    assert rows[("F", "=~", "x4")].label == "lam"
    assert rows[("F", "~~", "F")].fixed == 1.0
    assert rows[("x1", "~1", "")].fixed == 0.0
    assert ("y", "~1", "") in rows and ("y", "~", "x") in rows
    assert spec.intercepts == ("x1", "y")
    # Observed order as lavaan: indicators, observed outcomes, predictors, others.
    assert spec.observed_variables == ("x1", "x2", "x3", "x4", "y", "x")


def test_composites_with_formative_indicators():
    spec = parse_model("QUAL <~ q1 + w*q2 +\n  q3\nSAT =~ s1 + s2\nSAT ~ QUAL")
    assert spec.composites == {"QUAL": ("q1", "q2", "q3")}
    assert spec.latent == {"SAT": ("s1", "s2")}
    assert spec.latent_variables == ("QUAL", "SAT")
    assert spec.observed_variables == ("q1", "q2", "q3", "s1", "s2")
    assert [(r.lhs, r.op, r.rhs, r.label) for r in spec.rows[:2]] == [
        ("QUAL", "<~", "q1", ""),
        ("QUAL", "<~", "q2", "w"),
    ]


def test_covariance_based_fits_refuse_composites():
    from analysis.sem import fit_sem

    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.standard_normal((50, 4)), columns=["q1", "q2", "s1", "s2"])
    with pytest.raises(ModelSyntaxError, match=r"line 1: the composite 'Q <~ \.\.\.' needs"):
        fit_sem(data, "Q <~ q1 + q2\nS =~ s1 + s2\nS ~ Q")


def test_multiple_left_hand_sides_and_unicode_names():
    spec = parse_model("满意 =~ s1 + s2 + s3\nv1 + v2 ~ 满意")
    assert spec.latent == {"满意": ("s1", "s2", "s3")}
    assert spec.regressions == {"v1": ("满意",), "v2": ("满意",)}


def test_defined_parameters_are_evaluated_safely():
    spec = parse_model(
        "m ~ a*x\ny ~ b*m + c*x\nind := a*b\ntotal := c + ind\nratio := ind / (c + a*b)\n"
        "sq := (a - c)^2 - -b\nroot := sqrt(abs(a))"
    )
    values = {"a": 0.5, "b": 0.4, "c": 0.3}
    results = {}
    for parameter in spec.defined:
        results[parameter.name] = parameter.expression.evaluate({**values, **results})
    assert results["ind"] == pytest.approx(0.2)
    assert results["total"] == pytest.approx(0.5)
    assert results["ratio"] == pytest.approx(0.4)
    assert results["sq"] == pytest.approx(0.04 + 0.4)
    assert results["root"] == pytest.approx(math.sqrt(0.5))
    value, gradient = spec.defined[0].expression.value_and_gradient(values, ["a", "b", "c"])
    assert value == pytest.approx(0.2)
    assert gradient.tolist() == pytest.approx([0.4, 0.5, 0.0])
    assert spec.defined[3].expression.names == ("a", "c", "b")


def test_thresholds_with_labels_fixed_values_and_continuation():
    spec = parse_model("F =~ y1 + y2 + y3\ny1 | a*t1 + -1.5*t2 +\n  t3\nz | t1")
    rows = [(row.lhs, row.rhs, row.label, row.fixed) for row in spec.rows if row.op == "|"]
    assert rows == [
        ("y1", "t1", "a", None), ("y1", "t2", "", -1.5), ("y1", "t3", "", None),
        ("z", "t1", "", None),
    ]  # fmt: skip
    # A thresholded variable that is not an indicator is still an observed variable.
    assert spec.observed_variables == ("y1", "y2", "y3", "z")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("LOY =~ l1 + l2\nVAL SAT", 2, "expected an operator (=~, <~, ~, ~~, |, :=) in 'VAL SAT'"),
        ("F =~ x1 + + x2", 1, "empty term"),
        ("F =~ x1 + 2x", 1, "not a valid variable name"),
        ("F =~ x1 + q(1)*x2", 1, "is not a label, a number, NA or start"),
        ("y ~ a*x\nd := a * z", 2, "unknown label(s) 'z'"),
        ("y ~ a*x\nd := a ** 2", 2, "unexpected '*'"),
        ("y ~ a*x\nd := __import__(a)", 2, "unknown function '__import__'"),
        ("y ~ a*x\nd := (a + 1", 2, "expected ')'"),
        ("F =~ x1 + x2\n\nF =~ x1", 3, "already specified on line 1"),
        ("F =~ x1 + x2\nF <~ x3", 2, "defined both by '=~' and by '<~'"),
        ("F <~ F", 1, "relates a variable to itself"),
        ("a == b", 1, "equality constraints"),
        ("y ~ x\nx =~ 1", 2, "an intercept needs '~ 1'"),
        ("y ~ y", 1, "relates a variable to itself"),
        ("y ~ x + z\nw ~ x*z", 2, "label 'x' is also a variable name"),
        ("F =~ 1*NA*x1", 1, "both fixed and free"),
        ("F =~ y1 + y2\ny1 | th1", 2, "thresholds are named t1, t2, ..."),
        ("F =~ y1 + y2\nF | t1", 2, "'F' is a latent variable; only ordered observed items"),
    ],
)
def test_errors_carry_line_and_clear_message(text, line, fragment):
    with pytest.raises(ModelSyntaxError) as error:
        parse_model(text)
    assert error.value.line == line
    assert str(error.value).startswith(f"line {line}: ")
    assert fragment in str(error.value)
    assert isinstance(error.value, ValueError)


def test_empty_model_and_non_text():
    with pytest.raises(ModelSyntaxError, match="no formulas"):
        parse_model("# only a comment\n\n")
    with pytest.raises(ModelSyntaxError, match="must be text"):
        parse_model(None)  # type: ignore[arg-type]


def test_measurement_syntax_round_trips():
    constructs = {"SAT": ["sat1", "sat2", "sat3"], "LOY": ("loy1", "loy2")}
    text = measurement_syntax(constructs)
    assert text == "SAT =~ sat1 + sat2 + sat3\nLOY =~ loy1 + loy2"
    assert parse_model(text).latent == {k: tuple(v) for k, v in constructs.items()}
    with pytest.raises(ModelSyntaxError, match="cannot be used as a name"):
        measurement_syntax({"SAT": ["sat 1"]})
    with pytest.raises(ModelSyntaxError, match="has no items"):
        measurement_syntax({"SAT": []})


@pytest.mark.parametrize(
    ("model", "measure"),
    [
        ("F =~ a + b + c\nind := " + "(" * 300 + "a" + ")" * 300, "nesting"),
        ("F =~ a + b + c\ntotal := " + " + ".join(["a"] * 1500), "terms"),
        ("F =~ a + b + c\nneg := " + "-" * 1000 + "a", "terms"),
        ("F =~ a + b + c\npower := " + "^".join(["a"] * 1000), "terms"),
        ("F =~ a + b + c\n" + "# comment\n" * 6000, "characters"),
    ],
    ids=["300 nested parentheses", "1500-term sum", "1000 signs", "1000 powers", "too long"],
)
def test_models_beyond_the_limits_are_refused_before_parsing(model: str, measure: str) -> None:
    with pytest.raises(ModelTooComplexError) as refused:
        parse_model(model)
    assert refused.value.measure == measure
    assert isinstance(refused.value, ModelSyntaxError)


def test_expressions_within_the_limits_still_parse() -> None:
    nested = "(" * MAX_EXPRESSION_NESTING + "a" + ")" * MAX_EXPRESSION_NESTING
    spec = parse_model(f"F =~ x1 + x2 + x3\nF ~ a*y\nind := {nested} * 2")
    assert spec.defined[0].expression.evaluate({"a": 0.25}) == 0.5
