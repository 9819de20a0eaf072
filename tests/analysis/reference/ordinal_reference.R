# Reference numbers from lavaan (WLSMV), psych and semTools for ordered items.
#
# Fits the simulated ordinal surveys (written by make_ordinal_sim.py) with lavaan's default
# estimator for ordered items (WLSMV: DWLS, robust.sem standard errors, scaled-shifted test)
# and writes one JSON fixture per model next to this script: parameterEstimates() with std.all,
# fitMeasures(), the scaled-shifted test's scaling factor and shift parameter, r2, and the
# sample statistics (thresholds, polychoric/polyserial correlations, WLS.obs and Gamma =
# NACOV). ordinal_reliability.json holds ordinal alpha (psych::alpha on psych::polychoric)
# and categorical omega (semTools::compRelSEM). The tests read the JSON files only; R is
# needed only to regenerate them:
#
#   python tests/analysis/reference/make_ordinal_sim.py
#   Rscript tests/analysis/reference/ordinal_reference.R
#
# Packages: lavaan 0.6-14, psych, semTools 0.5-6, jsonlite (Debian: r-cran-lavaan
# r-cran-psych r-cran-semtools r-cran-jsonlite).

suppressPackageStartupMessages({
  library(lavaan)
  library(psych)
  library(semTools)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- dirname(normalizePath(script))
data_dir <- file.path(dirname(here), "data")

skewed <- read.csv(file.path(data_dir, "ordinal_skewed.csv"))
loyalty <- read.csv(file.path(data_dir, "loyalty_ordinal.csv"))

fit_measure_names <- c(
  "npar", "fmin", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
  "chisq.scaling.factor", "baseline.chisq", "baseline.df", "baseline.pvalue",
  "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
  "baseline.chisq.scaling.factor", "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust",
  "tli.robust", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "rmsea.scaled",
  "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled", "rmsea.robust",
  "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust", "srmr", "ntotal"
)

# sample = FALSE: leave out the sample statistics (another fixture has them for the same data).
export <- function(name, model, data, ordered, ..., sample = TRUE) {
  fit <- sem(model, data = data, ordered = ordered, ...)
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  pe$std.all <- ss$est.std
  stopifnot(all(pe$lhs == ss$lhs & pe$op == ss$op & pe$rhs == ss$rhs))
  fm <- fitMeasures(fit, fit_measure_names)
  test <- lavInspect(fit, "test")$scaled.shifted
  out <- list(
    model = model,
    ordered = ordered,
    options = list(...),
    lavaan_version = as.character(packageVersion("lavaan")),
    estimator = lavInspect(fit, "options")$estimator,
    se = lavInspect(fit, "options")$se,
    test = lavInspect(fit, "options")$test,
    nobs = lavInspect(fit, "nobs"),
    converged = lavInspect(fit, "converged"),
    estimates = pe,
    fit = as.list(setNames(as.numeric(fm), names(fm))),
    scaling_factor = test$scaling.factor,
    shift_parameter = test$shift.parameter,
    r2 = as.list(lavInspect(fit, "r2"))
  )
  if (sample) {
    sampstat <- lavInspect(fit, "sampstat")
    out$sample <- list(
      names = lavNames(fit, "ov"),
      thresholds = unname(sampstat$th),
      cov = unname(unclass(sampstat$cov)),
      wls_obs = unname(lavInspect(fit, "wls.obs")),
      gamma = unname(unclass(lavInspect(fit, "gamma")))
    )
  }
  path <- file.path(here, paste0(name, ".json"))
  writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE), path)
  cat("wrote", path, "\n")
  invisible(fit)
}

skewed_items <- paste0("y", 1:8)
skewed_model <- "
F1 =~ y1 + y2 + y3 + y4
F2 =~ y5 + y6 + y7 + y8
"
skewed_fit <- export("ordinal_skewed", skewed_model, skewed, skewed_items)

# Mixed ordered and continuous indicators: polyserial and Pearson correlations.
mixed_model <- "
F1 =~ y1 + y2 + y3 + y4
F2 =~ y5 + y6 + x1 + x2 + x3
"
export("ordinal_mixed", mixed_model, skewed, paste0("y", 1:6))

# Threshold syntax: equal first thresholds for y1 and y2, y3's fixed, unit factor variances.
threshold_model <- "
F1 =~ y1 + y2 + y3 + y4
F2 =~ y5 + y6 + y7 + y8
y1 | a*t1
y2 | a*t1 + t2
y3 | -1.5*t2
"
export("ordinal_thresholds", threshold_model, skewed, skewed_items, std.lv = TRUE,
       sample = FALSE)

# Paths: an ordered outcome of two factors, a continuous outcome, a residual covariance
# between ordered items of different factors.
paths_model <- "
F1 =~ y1 + y2 + y3 + y4
F2 =~ y5 + y6 + y7
y4 ~~ y5
y8 ~ F1 + F2
x1 ~ F2
"
export("ordinal_paths", paths_model, skewed, skewed_items, sample = FALSE)

# Binary items (tetrachoric correlations; b1 x b2 has an empty cell, which lavaan fills with
# 0.5 keeping the margins) next to a 5-point item: sample statistics only.
binary <- data.frame(b1 = as.integer(skewed$y1 >= 5), b2 = as.integer(skewed$y1 >= 3),
                     b3 = as.integer(skewed$y2 >= 4), b4 = as.integer(skewed$y5 >= 4),
                     y6 = skewed$y6)
# (lavCor's Gamma has two extra rows; a one-factor model gives the sample statistics' own.)
binary_fit <- cfa("F =~ b1 + b2 + b3 + b4 + y6", data = binary, ordered = names(binary))
binary_stats <- lavInspect(binary_fit, "sampstat")
writeLines(toJSON(list(
  data = binary,
  thresholds = unname(binary_stats$th),
  cov = unname(unclass(binary_stats$cov)),
  wls_obs = unname(lavInspect(binary_fit, "wls.obs")),
  gamma = unname(unclass(lavInspect(binary_fit, "gamma")))
), digits = NA, pretty = TRUE), file.path(here, "ordinal_binary.json"))
cat("wrote", file.path(here, "ordinal_binary.json"), "\n")

loyalty_model <- "
SAT =~ sat1 + sat2 + sat3 + sat4
VAL =~ val1 + val2 + val3
LOY =~ loy1 + loy2 + loy3 + loy4
VAL ~ a*SAT
LOY ~ c*SAT + b*VAL
ind := a*b
total := c + a*b
"
export("loyalty_ordinal", loyalty_model, loyalty, names(loyalty))

# Reliability of ordered items: ordinal alpha (alpha of the polychoric correlations, psych)
# and categorical omega (Green & Yang 2009; semTools::compRelSEM on the WLSMV measurement
# model, per factor).
reliability <- function(data, constructs) {
  items <- unlist(constructs, use.names = FALSE)
  model <- paste(sprintf("%s =~ %s", names(constructs),
                         sapply(constructs, paste, collapse = " + ")), collapse = "\n")
  fit <- cfa(model, data = data, ordered = items)
  omega <- compRelSEM(fit)
  alpha <- sapply(constructs, function(members) {
    rho <- polychoric(data[, members])$rho
    alpha(rho)$total$raw_alpha
  })
  list(model = model, alpha_ordinal = as.list(alpha), omega_categorical = as.list(omega))
}
out <- list(
  psych_version = as.character(packageVersion("psych")),
  semtools_version = as.character(packageVersion("semTools")),
  loyalty_ordinal = reliability(loyalty, list(
    SAT = c("sat1", "sat2", "sat3", "sat4"), VAL = c("val1", "val2", "val3"),
    LOY = c("loy1", "loy2", "loy3", "loy4"))),
  ordinal_skewed = reliability(skewed, list(F1 = paste0("y", 1:4), F2 = paste0("y", 5:8)))
)
path <- file.path(here, "ordinal_reliability.json")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), path)
cat("wrote", path, "\n")
