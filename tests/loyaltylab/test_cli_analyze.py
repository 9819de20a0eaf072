"""``loyaltylab analyze`` run for real on CSV, XLSX and SPSS files written here."""

import json
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import typer
from typer.testing import CliRunner

from loyaltylab.cli_analyze import analyze
from tests.analysis.pls_support import ECSI_MODEL
from tests.loyaltylab.cli_support import DATA, MODEL

SCALE = ["--scale-min", "1", "--scale-max", "7"]


def _app() -> typer.Typer:
    # As registered in loyaltylab.cli: app.command("analyze")(analyze).
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("analyze")(analyze)
    return app


APP = _app()


def run(*args: str):
    return CliRunner().invoke(APP, ["analyze", *map(str, args)])


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.fixture
def model_file(tmp_path) -> Path:
    path = tmp_path / "model.lavaan"
    path.write_text(MODEL, encoding="utf-8")
    return path


def _write(survey: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        survey.to_csv(path, index=False)
    elif path.suffix == ".xlsx":
        survey.to_excel(path, index=False)
    else:
        pyreadstat.write_sav(survey, str(path))
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_json_output_for_every_file_type(survey, tmp_path, model_file, suffix):
    data = _write(survey, tmp_path / f"wave{suffix}")
    out = tmp_path / "result.json"
    result = run(data, "--model", model_file, "--json", out, "--reverse", "sat4", *SCALE,
                 "--group", "tier", "--nps", "ltr")  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    complete = survey.dropna(subset=[c for c in survey.columns if c[:3] in ("sat", "val", "loy")])
    assert document["n_rows"] == len(survey)
    assert document["n_used"] == len(complete)
    sat = complete[["sat1", "sat2", "sat3"]].assign(sat4=8 - complete["sat4"])
    covariance = sat.cov().to_numpy()
    alpha = 4 / 3 * (1 - covariance.trace() / covariance.sum())
    assert document["reliability"]["SAT"]["alpha"] == pytest.approx(alpha, abs=1e-9)
    assert document["groups"]["column"] == "tier"
    assert document["nps"]["n"] == survey["ltr"].notna().sum()


def test_readable_tables_without_json(survey, tmp_path, model_file):
    data = _write(survey, tmp_path / "wave.csv")
    result = run(data, "--model", model_file, "--reverse", "sat4,val3", *SCALE)
    assert result.exit_code == 0, result.output
    text = result.stdout
    for heading in ("Model fit", "Reliability", "Fornell-Larcker", "HTMT", "Paths", "R-squared"):
        assert heading in text
    reliability = text.split("Reliability")[1].split("\n\n")[0]
    assert any(line.startswith("SAT ") for line in reliability.splitlines())
    assert "ind  :=  a*b" in text


def test_fiml_and_bootstrap_options(survey, tmp_path, model_file):
    data = _write(survey, tmp_path / "wave.csv")
    out = tmp_path / "result.json"
    result = run(data, "--model", model_file, "--json", out, "--reverse", "sat4", *SCALE,
                 "--missing", "fiml", "--bootstrap", "20", "--seed", "3")  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["n_used"] == len(survey)
    assert document["bootstrap"]["ind"]["n_ok"] == 20


BAD_MODELS = {
    "unknown column": ("SAT =~ sat1 + sat2 + satX", "satX"),
    "non-numeric item": ("SAT =~ sat1 + sat2 + tier", "tier"),
    "unidentified": ("SAT =~ sat1 + sat2", "df = -1"),
    "syntax": ("SAT =~ sat1 + sat2 + sat3\nLOY loy1", "line 2"),
}


@pytest.mark.parametrize("case", list(BAD_MODELS))
def test_bad_models_exit_2_with_one_line(survey, tmp_path, case):
    text, named = BAD_MODELS[case]
    model = tmp_path / "bad.lavaan"
    model.write_text(text, encoding="utf-8")
    data = _write(survey, tmp_path / "wave.csv")
    _assert_one_line_error(run(data, "--model", model), named)


def test_bad_inputs_exit_2_with_one_line(survey, tmp_path, model_file):
    data = _write(survey, tmp_path / "wave.csv")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("满意度,sat1\n5,6\n".encode("gbk"))
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"not a workbook")
    cases = [
        ((tmp_path / "absent.csv", "--model", model_file), "does not exist"),
        # Read as GB18030 (its header is found), so the missing items are what is wrong.
        ((gbk, "--model", model_file), "not in the data"),
        ((empty, "--model", model_file), "not an Excel"),
        ((tmp_path / "data.json", "--model", model_file), "unsupported file type"),
        ((data, "--model", tmp_path / "absent.lavaan"), "model file"),
        ((data, "--model", model_file, "--missing", "pairwise"), "listwise or fiml"),
        ((data, "--model", model_file, "--group", "segment"), "segment"),
        ((data, "--model", model_file, "--nps", "tier"), "tier"),
        ((data, "--model", model_file, "--reverse", "sat4", "--scale-min", "7",
          "--scale-max", "1"), "scale_min"),
    ]  # fmt: skip
    (tmp_path / "data.json").write_text("{}")
    for args, named in cases:
        _assert_one_line_error(run(*args), named)


def _assert_one_line_error(result, named: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert named in lines[0]
    assert "Traceback" not in result.output


ACSI = Path(__file__).resolve().parents[1] / "analysis" / "data" / "acsi_ratings.csv"
ACSI_MODEL = ACSI.parents[1] / "reference" / "acsi.lavaan"


@pytest.mark.slow
def test_robust_fiml_analysis_with_partial_invariance(tmp_path):
    """MLR with FIML on skewed 0-10 ratings, invariance across channels freeing pv2's
    intercept, don't-know codes 99 recoded: the JSON says how it was estimated."""
    ratings = pd.read_csv(ACSI)
    ratings.loc[::40, "sat2"] = 99  # "don't know"
    data = tmp_path / "acsi.csv"
    ratings.to_csv(data, index=False)
    out = tmp_path / "result.json"
    result = run(data, "--model", ACSI_MODEL, "--json", out, "--scale-min", "0",
                 "--scale-max", "10", "--estimator", "MLR", "--missing", "fiml",
                 "--missing-codes", "98,99", "--invariance", "channel",
                 "--free", "pv2~1")  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["estimation"] == {
        "estimator": "MLR",
        "se": "robust.huber.white",
        "test": "yuan.bentler.mplus",
        "information": "observed",
    }
    assert document["missing_codes"] == [{"item": "sat2", "code": 99.0, "n": 38}]
    assert document["n_used"] == len(ratings)
    fit = document["fit"]
    assert fit["chisq_scaling_factor"] > 1.05 and fit["chisq_scaled"] < fit["chisq"]
    assert {"cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_upper_robust"} <= set(fit)
    invariance = document["invariance"]["channel"]
    assert (invariance["partial"], invariance["estimator"], invariance["missing"]) == (
        ["pv2~1"],
        "MLR",
        "fiml",
    )
    assert [level["level"] for level in invariance["levels"]] == ["configural", "metric", "scalar"]
    assert all(level["chisq_scaling_factor"] > 1 for level in invariance["levels"])
    top = document["modindices"][0]
    assert set(top) == {"lhs", "op", "rhs", "mi", "epc", "sepc_all"} and top["mi"] >= 3.84
    assert document["mardia"]["p_kurtosis"] < 0.001
    assert document["common_method"]["note"].startswith("Harman's single-factor test")


def test_readable_report_states_the_estimator_and_robust_fit(survey, tmp_path, model_file):
    data = _write(survey, tmp_path / "wave.csv")
    result = run(data, "--model", model_file, "--reverse", "sat4", *SCALE, "--estimator", "mlm")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Model fit (MLM; standard errors: robust.sem; test: satorra.bentler" in text
    assert "(scaling " in text
    for heading in ("HTMT2", "Harman", "Mardia"):
        assert heading in text


def test_semicolon_file_with_decimal_commas(survey, tmp_path, model_file):
    """A European spreadsheet's CSV: semicolons between fields, 4,5 for four and a half."""
    halves = survey.assign(sat1=survey["sat1"].where(survey["sat1"] <= 1, survey["sat1"] - 0.5))
    data = tmp_path / "wave.csv"
    halves.to_csv(data, index=False, sep=";", decimal=",")
    assert "5,5;" in data.read_text()
    out = tmp_path / "result.json"
    result = run(data, "--model", model_file, "--json", out, "--reverse", "sat4", *SCALE)
    assert result.exit_code == 0, result.output
    items = {row["variable"]: row for row in json.loads(out.read_text())["descriptives"]}
    used = halves.dropna(subset=[c for c in survey.columns if c[:3] in ("sat", "val", "loy")])
    assert items["sat1"]["mean"] == pytest.approx(used["sat1"].mean())


def test_new_options_refuse_bad_values(survey, tmp_path, model_file):
    data = _write(survey, tmp_path / "wave.csv")
    strays = _write(survey.assign(sat2=survey["sat2"].fillna(9)), tmp_path / "strays.csv")
    cases = [
        ((data, "--model", model_file, "--estimator", "WLS"), "--estimator must be one of"),
        ((data, "--model", model_file, "--estimator", "MLM", "--missing", "fiml"),
         "complete data"),
        ((data, "--model", model_file, "--missing-codes", "9,dk"), "--missing-codes"),
        ((data, "--model", model_file, "--free", "loy2~1"), "--free needs --invariance"),
        ((data, "--model", model_file, "--invariance", "tier", "--free", "loy9~1"), "loy9~1"),
        ((strays, "--model", model_file, *SCALE), "sat2 ("),
        ((data, "--model", model_file, "--decimal", ";"), "decimal mark"),
    ]  # fmt: skip
    for args, named in cases:
        _assert_one_line_error(run(*args), named)


ORDINAL_DATA = DATA.parent / "loyalty_ordinal.csv"
ORDINAL_MODEL = json.loads((DATA.parents[1] / "reference" / "loyalty_ordinal.json").read_text())[
    "model"
]


def test_ordered_items_by_wlsmv(tmp_path):
    model = tmp_path / "ordinal.lavaan"
    model.write_text(ORDINAL_MODEL, encoding="utf-8")
    out = tmp_path / "result.json"
    result = run(ORDINAL_DATA, "--model", model, "--ordered", "all", "--json", out)
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert (document["estimator"], document["test"], document["se"]) == (
        "WLSMV", "scaled.shifted", "robust.sem",
    )  # fmt: skip
    assert len(document["ordered"]) == 11
    assert {"chisq_scaled", "chisq_scaling_factor", "cfi_scaled", "rmsea_robust"} <= set(
        document["fit"]
    )
    assert any(row["op"] == "|" for row in document["estimates"])
    # Names, repeated or comma-separated; the tables say what was fitted.
    result = run(ORDINAL_DATA, "--model", model, "--ordered", "sat1,sat2", "--ordered", "sat3")
    assert result.exit_code == 0, result.output
    assert (
        "Model fit (WLSMV, 3 ordered items; standard errors: robust.sem; test: scaled.shifted, "
        "scaled CFI/TLI/RMSEA)" in result.stdout
    )
    assert "scaled chi2(" in result.stdout and ", shift " in result.stdout
    assert "Modification indices: not computed for WLSMV fits" in result.stdout
    assert "Common-method bias (Harman's single-factor test)" in result.stdout
    assert "ordinal alpha" not in result.stdout  # no construct has only ordered items
    result = run(ORDINAL_DATA, "--model", model, "--ordered", "all")
    assert "ordinal alpha" in result.stdout and "categorical omega" in result.stdout


def test_ordered_errors_exit_2_with_one_line(tmp_path):
    model = tmp_path / "ordinal.lavaan"
    model.write_text(ORDINAL_MODEL, encoding="utf-8")
    cases = [
        (("--ordered", "all,sat1"), "'all' or item names"),
        (("--ordered", "sat9"), "sat9"),
        (("--ordered", "all", "--missing", "fiml"), "FIML needs continuous items"),
        (("--ordered", "all", "--bootstrap", "10"), "bootstrap intervals are not available"),
        (
            ("--ordered", "all", "--estimator", "MLR"),
            "--ordered items are fitted by WLSMV, not MLR",
        ),
        (("--estimator", "wlsmv"), "--estimator WLSMV needs --ordered"),
    ]
    for args, named in cases:
        _assert_one_line_error(run(ORDINAL_DATA, "--model", model, *args), named)


ECSI = Path(__file__).resolve().parents[1] / "analysis" / "data" / "ecsi_satisfaction.csv"


@pytest.fixture
def ecsi_model(tmp_path) -> Path:
    path = tmp_path / "ecsi.lavaan"
    path.write_text(ECSI_MODEL, encoding="utf-8")
    return path


def test_pls_json_with_plspm_settings(tmp_path, ecsi_model):
    out = tmp_path / "pls.json"
    result = run(ECSI, "--model", ecsi_model, "--estimator", "PLS", "--pls-scheme", "centroid",
                 "--pls-unscaled", "--scale-min", "0", "--scale-max", "10",
                 "--json", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["estimator"] == "pls"
    assert document["pls"] | {"iterations": None} == {
        "scheme": "centroid", "scaled": False, "consistent": False, "tolerance": 1e-7,
        "max_iterations": 300, "iterations": None, "omission_distance": 7,
    }  # fmt: skip
    # R plspm's ECSI tutorial (plspm-python's published outputs).
    assert document["gof"] == pytest.approx(0.609741624338411, abs=1e-7)
    assert document["r2"]["SAT"] == pytest.approx(0.707320949544597, abs=1e-6)
    sat_val = next(r for r in document["estimates"] if (r["lhs"], r["rhs"]) == ("SAT", "VAL"))
    assert (sat_val["op"], sat_val["se"]) == ("~", None)
    assert sat_val["est"] == pytest.approx(0.589330650016017, abs=1e-6)
    assert set(document["indices"]) == {"IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"}
    assert document["importance_performance"]["target"] == "LOY"


def test_pls_readable_report_with_bootstrap_and_plsc(ecsi_model):
    result = run(ECSI, "--model", ecsi_model, "--estimator", "pls", "--consistent",
                 "--bootstrap", "200", "--seed", "4")  # fmt: skip
    assert result.exit_code == 0, result.output
    output = result.output
    assert "consistent PLS (PLSc) path model: path weighting scheme, standardized items" in output
    for title in ("Reliability and convergent validity", "Outer model", "HTMT and HTMT2",
                  "Paths (f2 .02/.15/.35), bootstrap: 200 of 200 resamples",
                  "R-squared and blindfolding Q2", "PLSpredict (10 folds x 10"):  # fmt: skip
        assert title in output
    assert "Satisfaction indices" not in output  # needs the scale range
    again = run(ECSI, "--model", ecsi_model, "--estimator", "pls", "--consistent",
                "--bootstrap", "200", "--seed", "4")  # fmt: skip
    assert again.output == output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--consistent"], "--pls-scheme, --pls-unscaled and --consistent need --estimator pls"),
        (["--estimator", "gls"], "--estimator must be one of ML, MLR, MLM, WLSMV, pls, not 'gls'"),
        (["--estimator", "pls", "--pls-scheme", "radial"], "--pls-scheme must be path"),
        (["--estimator", "pls", "--missing", "fiml"], "use missing 'listwise'"),
        (["--estimator", "pls", "--ordered", "all"], "PLS treats items as metric"),
    ],
)
def test_pls_option_errors_exit_2_with_one_line(ecsi_model, options, message):
    result = run(ECSI, "--model", ecsi_model, *options)
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.count("\n") == 1
