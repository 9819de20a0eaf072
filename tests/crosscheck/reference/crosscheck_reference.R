# Reference numbers from R that decide where our statistics and a Python library disagree
# (tests/crosscheck, docs/crosschecks.md). Writes crosscheck_reference.json next to this script;
# the tests read that file only, R is needed just to regenerate it:
#
#   Rscript tests/crosscheck/reference/crosscheck_reference.R
#
# Data: tests/analysis/data (written by tests/analysis/reference/lavaan_reference.R and the
# make_*.py scripts there). Packages: lavaan, psych, jsonlite (Debian: r-cran-lavaan
# r-cran-psych r-cran-jsonlite).

options(warn = 1)
suppressPackageStartupMessages({
  library(lavaan)
  library(psych)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- dirname(normalizePath(script))
data_dir <- file.path(dirname(dirname(here)), "analysis", "data")

segments <- read.csv(file.path(data_dir, "loyalty_segments.csv"))
segments$sat4 <- 8 - segments$sat4  # reverse-keyed item, 7-point scale
loyalty <- read.csv(file.path(data_dir, "loyalty_sim.csv"))
hs <- read.csv(file.path(data_dir, "holzinger_swineford.csv"))
hs_missing <- read.csv(file.path(data_dir, "holzinger_swineford_missing.csv"))

constructs <- list(SAT = c("sat1", "sat2", "sat3", "sat4"), VAL = c("val1", "val2", "val3"),
                   TRU = c("tru1", "tru2", "tru3"), LOY = c("loy1", "loy2", "loy3"))

# Cronbach's alpha of items with missing answers, three ways. psych::alpha's Feldt interval
# counts every row it is given (nsub), also the rows use = "complete.obs" leaves out of alpha.
feldt <- function(a) list(alpha = a$total$raw_alpha, ci_lower = a$feldt$lower.ci$raw_alpha,
                          ci_upper = a$feldt$upper.ci$raw_alpha)
alpha_reference <- lapply(constructs, function(items) {
  x <- segments[, items]
  list(n_rows = nrow(x), n_complete = sum(complete.cases(x)),
       complete_cases = feldt(psych::alpha(na.omit(x), warnings = FALSE)),
       complete_obs = feldt(psych::alpha(x, use = "complete.obs", warnings = FALSE)),
       pairwise = feldt(psych::alpha(x, warnings = FALSE)))
})

fit_names <- c("npar", "chisq", "df", "cfi", "tli", "nfi", "gfi", "agfi", "rmsea", "logl",
               "aic", "bic", "ntotal")
fit_list <- function(fit, names = fit_names) {
  fm <- fitMeasures(fit, names)
  as.list(setNames(as.numeric(fm), names(fm)))
}
models <- list(
  holzinger_swineford = list(data = hs, model = "
    visual  =~ x1 + x2 + x3
    textual =~ x4 + x5 + x6
    speed   =~ x7 + x8 + x9"),
  # One factor for nine items fits HolzingerSwineford1939 far worse than three (chi-square
  # 312 on 27 df): every information criterion must prefer the three factors.
  holzinger_swineford_one_factor = list(data = hs, model = "
    g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9"),
  # Chi-square below its df: lavaan clips CFI to 1 (TLI is not clipped).
  value_loyalty = list(data = loyalty, model = "
    VAL =~ val1 + val2 + val3
    LOY =~ loy1 + loy2 + loy3")
)
fit_reference <- lapply(models, function(m) {
  fit <- sem(m$model, data = m$data)
  list(model = m$model, fit = fit_list(fit))
})

# FIML (missing = "ml"): standard errors from the observed information (lavaan's default then).
fiml_model <- "visual =~ x1 + x2 + x3 + x9"
fiml <- sem(fiml_model, data = hs_missing, missing = "ml")
fiml_estimates <- parameterEstimates(fiml)[, c("lhs", "op", "rhs", "est", "se")]
fiml_reference <- list(
  model = fiml_model, nobs = lavInspect(fiml, "nobs"), estimates = fiml_estimates,
  fit = fit_list(fiml, c("npar", "chisq", "df", "cfi", "tli", "rmsea", "logl", "aic", "bic",
                         "ntotal"))
)

reference <- list(
  r_version = R.version.string,
  packages = lapply(c(lavaan = "lavaan", psych = "psych"),
                    function(p) as.character(packageVersion(p))),
  alpha = alpha_reference,
  fit = fit_reference,
  fiml = fiml_reference
)

path <- file.path(here, "crosscheck_reference.json")
writeLines(toJSON(reference, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE,
                  dataframe = "rows"), path)
cat("wrote", path, "\n")
