# Reference numbers from lavaan for multiple-group models and measurement invariance.
#
# Writes multigroup.json next to this script: for each case, lavaan's parameterEstimates()
# (with the group's label and std.all from standardizedSolution()) and fitMeasures() of
# cfa(model, data, group = ..., group.equal = ...). The tests read the JSON file only; R is
# needed only to regenerate it:
#
#   Rscript tests/analysis/reference/invariance_reference.R

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- dirname(normalizePath(script))
data_dir <- file.path(dirname(here), "data")

fit_measure_names <- c("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df",
                       "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
                       "rmsea.pvalue", "srmr", "logl", "unrestricted.logl", "aic", "bic",
                       "ntotal")
robust_measure_names <- c(
  "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
  "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
  "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
  "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled",
  "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust"
)

case <- function(name, data_name, model, data, group, group_equal = "", group_partial = "",
                 estimator = "ML", missing = "listwise", restart = FALSE) {
  fit <- cfa(model, data = data, group = group, group.equal = group_equal,
             group.partial = group_partial, estimator = estimator, missing = missing)
  if (restart) {
    # lavaan's optimizer stops some models ~1e-4 short of the optimum: run again from there.
    fit <- cfa(model, data = data, group = group, group.equal = group_equal,
               group.partial = group_partial, estimator = estimator, missing = missing,
               start = parTable(fit))
  }
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  stopifnot(all(pe$lhs == ss$lhs & pe$op == ss$op & pe$rhs == ss$rhs & pe$group == ss$group))
  labels <- lavInspect(fit, "group.label")
  pe$group <- labels[pe$group]
  pe$std.all <- ss$est.std
  # lavaan's internal equality labels (.p2. etc.) are not user labels.
  if (is.null(pe$label)) pe$label <- ""
  pe$label[grepl("^\\.p[0-9]+\\.$", pe$label)] <- ""
  robust <- estimator != "ML" || missing == "ml"
  fm <- fitMeasures(fit, c(fit_measure_names, if (robust) robust_measure_names))
  list(
    name = name,
    data = data_name,
    model = model,
    group = group,
    group_equal = as.list(setdiff(group_equal, "")),
    group_partial = as.list(setdiff(group_partial, "")),
    estimator = estimator,
    missing = missing,
    groups = labels,
    nobs = lavInspect(fit, "nobs"),
    converged = lavInspect(fit, "converged"),
    estimates = pe[, c("group", "lhs", "op", "rhs", "label", "est", "se", "std.all")],
    fit = as.list(setNames(as.numeric(fm), names(fm)))
  )
}

hs <- read.csv(file.path(data_dir, "holzinger_swineford.csv"))
hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
loyalty <- read.csv(file.path(data_dir, "loyalty_segments.csv"))
loyalty$sat4 <- 8 - loyalty$sat4
loyalty$wave <- paste0("W", loyalty$wave)
loyalty_model <- "
  SAT =~ sat1 + sat2 + sat3 + sat4
  VAL =~ val1 + val2 + val3
  TRU =~ tru1 + tru2 + tru3
  LOY =~ loy1 + loy2 + loy3
"
labelled_model <- "
  visual  =~ x1 + a*x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"

acsi <- read.csv(file.path(data_dir, "acsi_ratings.csv"))
# The measurement part of the ACSI model.
acsi_lines <- readLines(file.path(here, "acsi.lavaan"))
acsi_model <- paste(grep("=~", acsi_lines, value = TRUE), collapse = "\n")

scalar <- c("loadings", "intercepts")
cases <- list(
  case("hs_configural", "holzinger_swineford", hs_model, hs, "school"),
  case("hs_metric", "holzinger_swineford", hs_model, hs, "school", "loadings"),
  case("hs_scalar", "holzinger_swineford", hs_model, hs, "school", scalar),
  case("hs_strict", "holzinger_swineford", hs_model, hs, "school", c(scalar, "residuals")),
  case("hs_labelled", "holzinger_swineford", labelled_model, hs, "school"),
  case("loyalty_configural", "loyalty_segments", loyalty_model, loyalty, "wave"),
  case("loyalty_metric", "loyalty_segments", loyalty_model, loyalty, "wave", "loadings"),
  case("loyalty_scalar", "loyalty_segments", loyalty_model, loyalty, "wave", scalar),
  # Partial invariance (group.partial), multiple-group FIML and the robust estimators.
  case("hs_scalar_partial", "holzinger_swineford", hs_model, hs, "school", scalar,
       group_partial = c("x3~1", "x7~1")),
  case("acsi_configural_fiml", "acsi_ratings", acsi_model, acsi, "channel", missing = "ml"),
  case("acsi_configural_mlr_fiml", "acsi_ratings", acsi_model, acsi, "channel",
       estimator = "MLR", missing = "ml"),
  case("acsi_metric_mlr_fiml", "acsi_ratings", acsi_model, acsi, "channel", "loadings",
       estimator = "MLR", missing = "ml"),
  case("acsi_scalar_mlr_fiml", "acsi_ratings", acsi_model, acsi, "channel", scalar,
       estimator = "MLR", missing = "ml", restart = TRUE),
  case("acsi_partial_mlr_fiml", "acsi_ratings", acsi_model, acsi, "channel", scalar,
       group_partial = "pv2~1", estimator = "MLR", missing = "ml"),
  case("acsi_metric_mlm", "acsi_ratings", acsi_model, acsi, "channel", "loadings",
       estimator = "MLM"),
  case("acsi_partial_mlr", "acsi_ratings", acsi_model, acsi, "channel", scalar,
       group_partial = "pv2~1", estimator = "MLR")
)
# Satorra-Bentler (2001) scaled difference tests between the robust FIML levels.
fit_level <- function(equal, partial = "") {
  cfa(acsi_model, data = acsi, group = "channel", group.equal = equal,
      group.partial = partial, estimator = "MLR", missing = "ml")
}
lrt <- function(restricted, free) {
  test <- lavTestLRT(free, restricted)
  list(chisq = test[["Chisq diff"]][2], df = test[["Df diff"]][2],
       pvalue = test[["Pr(>Chisq)"]][2])
}
configural <- fit_level("")
metric <- fit_level("loadings")
scalar_fit <- fit_level(scalar)
partial_fit <- fit_level(scalar, "pv2~1")
differences <- list(
  metric_vs_configural = lrt(metric, configural),
  scalar_vs_metric = lrt(scalar_fit, metric),
  partial_vs_metric = lrt(partial_fit, metric)
)

path <- file.path(here, "multigroup.json")
out <- list(lavaan_version = as.character(packageVersion("lavaan")), cases = cases,
            acsi_mlr_fiml_differences = differences)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE), path)
cat("wrote", path, "\n")
