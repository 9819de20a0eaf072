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

case <- function(name, data_name, model, data, group, group_equal = "") {
  fit <- cfa(model, data = data, group = group, group.equal = group_equal)
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  stopifnot(all(pe$lhs == ss$lhs & pe$op == ss$op & pe$rhs == ss$rhs & pe$group == ss$group))
  labels <- lavInspect(fit, "group.label")
  pe$group <- labels[pe$group]
  pe$std.all <- ss$est.std
  # lavaan's internal equality labels (.p2. etc.) are not user labels.
  if (is.null(pe$label)) pe$label <- ""
  pe$label[grepl("^\\.p[0-9]+\\.$", pe$label)] <- ""
  fm <- fitMeasures(fit, fit_measure_names)
  list(
    name = name,
    data = data_name,
    model = model,
    group = group,
    group_equal = as.list(setdiff(group_equal, "")),
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

scalar <- c("loadings", "intercepts")
cases <- list(
  case("hs_configural", "holzinger_swineford", hs_model, hs, "school"),
  case("hs_metric", "holzinger_swineford", hs_model, hs, "school", "loadings"),
  case("hs_scalar", "holzinger_swineford", hs_model, hs, "school", scalar),
  case("hs_strict", "holzinger_swineford", hs_model, hs, "school", c(scalar, "residuals")),
  case("hs_labelled", "holzinger_swineford", labelled_model, hs, "school"),
  case("loyalty_configural", "loyalty_segments", loyalty_model, loyalty, "wave"),
  case("loyalty_metric", "loyalty_segments", loyalty_model, loyalty, "wave", "loadings"),
  case("loyalty_scalar", "loyalty_segments", loyalty_model, loyalty, "wave", scalar)
)
path <- file.path(here, "multigroup.json")
out <- list(lavaan_version = as.character(packageVersion("lavaan")), cases = cases)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE), path)
cat("wrote", path, "\n")
