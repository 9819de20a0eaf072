# Reference numbers from lavaan for the robust estimators (MLR, MLM) and modification indices.
#
# Writes robust.json next to this script: for each case, lavaan's parameterEstimates() (with
# std.all from standardizedSolution()), fitMeasures() including the .scaled and .robust
# measures, and modindices(). The tests read the JSON file only; R is needed only to
# regenerate it:
#
#   python tests/analysis/reference/make_acsi_ratings.py
#   Rscript tests/analysis/reference/lavaan_reference.R   # the models of its fixtures
#   Rscript tests/analysis/reference/robust_reference.R

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- dirname(normalizePath(script))
data_dir <- file.path(dirname(here), "data")

fit_measure_names <- c(
  "npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli", "rmsea",
  "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr", "logl", "unrestricted.logl",
  "aic", "bic", "ntotal",
  "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
  "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
  "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
  "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled",
  "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust"
)

case <- function(name, data_name, model, data, estimator, missing = "listwise", vcov = FALSE,
                 restart = FALSE) {
  fit <- sem(model, data = data, estimator = estimator, missing = missing)
  if (restart) {
    # lavaan's optimizer stops some models ~1e-4 short of the optimum: run again from there.
    fit <- sem(model, data = data, estimator = estimator, missing = missing,
               start = parTable(fit))
  }
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  stopifnot(all(pe$lhs == ss$lhs & pe$op == ss$op & pe$rhs == ss$rhs))
  pe$std.all <- ss$est.std
  if (is.null(pe$label)) pe$label <- ""
  fm <- fitMeasures(fit, fit_measure_names)
  mi <- modindices(fit, sort. = TRUE)
  out <- list(
    name = name,
    data = data_name,
    model = model,
    estimator = estimator,
    missing = missing,
    options = lavInspect(fit, "options")[c("se", "test", "information")],
    nobs = lavInspect(fit, "nobs"),
    norig = lavInspect(fit, "norig"),
    converged = lavInspect(fit, "converged"),
    estimates = pe[, c("lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "std.all")],
    fit = as.list(setNames(as.numeric(fm), names(fm))),
    modindices = mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.all")]
  )
  if (vcov) {
    out$vcov <- unclass(lavInspect(fit, "vcov"))
    out$vcov_names <- rownames(out$vcov)
  }
  out
}

acsi <- read.csv(file.path(data_dir, "acsi_ratings.csv"))
acsi_model <- paste(readLines(file.path(here, "acsi.lavaan")), collapse = "\n")
# The models of lavaan_reference.R's fixtures (run it first).
fixture_model <- function(name) fromJSON(file.path(here, paste0(name, ".json")))$model
loyalty <- read.csv(file.path(data_dir, "loyalty_sim.csv"))
loyalty$sat4 <- 8 - loyalty$sat4
loyalty_model <- fixture_model("loyalty_listwise")
hs <- read.csv(file.path(data_dir, "holzinger_swineford.csv"))
hs_missing <- read.csv(file.path(data_dir, "holzinger_swineford_missing.csv"))
hs_covariate_model <- fixture_model("holzinger_swineford_covariates")
pd_equal_model <- fixture_model("political_democracy_equal")
pd <- read.csv(file.path(data_dir, "political_democracy.csv"))

cases <- list(
  case("acsi_mlr", "acsi_ratings", acsi_model, acsi, "MLR"),
  case("acsi_mlr_fiml", "acsi_ratings", acsi_model, acsi, "MLR", "ml"),
  case("acsi_mlm", "acsi_ratings", acsi_model, acsi, "MLM"),
  case("acsi_ml_fiml", "acsi_ratings", acsi_model, acsi, "ML", "ml"),
  case("loyalty_mlr", "loyalty_sim", loyalty_model, loyalty, "MLR", vcov = TRUE),
  case("loyalty_mlr_fiml", "loyalty_sim", loyalty_model, loyalty, "MLR", "ml"),
  case("loyalty_mlm", "loyalty_sim", loyalty_model, loyalty, "MLM"),
  case("hs_covariates_mlr", "holzinger_swineford", hs_covariate_model, hs, "MLR"),
  case("hs_covariates_mlm", "holzinger_swineford", hs_covariate_model, hs, "MLM"),
  case("hs_covariates_mlr_fiml", "holzinger_swineford_missing", hs_covariate_model,
       hs_missing, "MLR", "ml"),
  # Equality constraints (shared labels): modification indices of the constrained model.
  case("pd_equal_mlr", "political_democracy", pd_equal_model, pd, "MLR", restart = TRUE)
)
path <- file.path(here, "robust.json")
out <- list(lavaan_version = as.character(packageVersion("lavaan")), cases = cases)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE), path)
cat("wrote", path, "\n")
