# Reference numbers from lavaan for the SEM engine's tests.
#
# Writes the PoliticalDemocracy and HolzingerSwineford1939 data to tests/analysis/data/*.csv
# and, for each reference model, a JSON fixture next to this script with lavaan's
# parameterEstimates() (plus std.all from standardizedSolution()), fitMeasures() and r2.
# The tests read the JSON files only; R is needed only to regenerate them:
#
#   python tests/analysis/reference/make_loyalty_sim.py
#   Rscript tests/analysis/reference/lavaan_reference.R
#
# The loyalty survey's reverse-keyed item sat4 is recoded here (8 - x); in the Python
# tests the same recode is applied before fitting.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- dirname(normalizePath(script))
data_dir <- file.path(dirname(here), "data")
dir.create(data_dir, showWarnings = FALSE)

write.csv(PoliticalDemocracy, file.path(data_dir, "political_democracy.csv"), row.names = FALSE)
write.csv(HolzingerSwineford1939, file.path(data_dir, "holzinger_swineford.csv"),
          row.names = FALSE, na = "")

loyalty <- read.csv(file.path(data_dir, "loyalty_sim.csv"))
loyalty$sat4 <- 8 - loyalty$sat4

fit_measure_names <- c("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df",
                       "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
                       "rmsea.pvalue", "srmr", "logl", "unrestricted.logl", "aic", "bic",
                       "ntotal")

export <- function(name, model, data, ...) {
  fit <- sem(model, data = data, ...)
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  pe$std.all <- ss$est.std
  stopifnot(all(pe$lhs == ss$lhs & pe$op == ss$op & pe$rhs == ss$rhs))
  fm <- fitMeasures(fit, fit_measure_names)
  out <- list(
    model = model,
    options = list(...)[setdiff(names(list(...)), "start")],
    lavaan_version = as.character(packageVersion("lavaan")),
    nobs = lavInspect(fit, "nobs"),
    norig = lavInspect(fit, "norig"),
    converged = lavInspect(fit, "converged"),
    estimates = pe,
    fit = as.list(setNames(as.numeric(fm), names(fm))),
    r2 = as.list(lavInspect(fit, "r2")),
    implied_cov = unclass(lavInspect(fit, "cov.ov"))
  )
  path <- file.path(here, paste0(name, ".json"))
  writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE), path)
  cat("wrote", path, "\n")
  invisible(fit)
}

pd_model <- "
  # measurement model
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  # regressions
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  # residual correlations
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  ind := a*b
  total := c + a*b
"
export("political_democracy", pd_model, PoliticalDemocracy)
export("political_democracy_fiml", pd_model, PoliticalDemocracy, missing = "ml")

pd_equal_model <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"
# lavaan's optimizer stops this model about 1e-4 short of the optimum (its objective is 5e-10
# above the minimum); a second run from its own solution gets within 4e-5.
pd_equal_first <- sem(pd_equal_model, data = PoliticalDemocracy)
export("political_democracy_equal", pd_equal_model, PoliticalDemocracy,
       start = parTable(pd_equal_first))

pd_path_model <- "
  y1 ~ x1 + x2
  y5 ~ b1*x1 + x2 + y2
  y1 ~ 1
  dif := b1 - 1
"
export("political_democracy_path", pd_path_model, PoliticalDemocracy)

hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
export("holzinger_swineford", hs_model, HolzingerSwineford1939)
export("holzinger_swineford_stdlv", hs_model, HolzingerSwineford1939, std.lv = TRUE)
export("holzinger_swineford_second_order",
       paste(hs_model, "g =~ visual + textual + speed", sep = "\n"), HolzingerSwineford1939)

hs_covariate_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  visual ~ ageyr
  speed ~ ageyr + grade
"
export("holzinger_swineford_covariates", hs_covariate_model, HolzingerSwineford1939)

# Incomplete items (deterministic holes) for FIML, with and without exogenous covariates.
hs_missing <- HolzingerSwineford1939
rows <- seq_len(nrow(hs_missing))
hs_missing$x2[rows %% 7 == 0] <- NA
hs_missing$x5[rows %% 11 == 3] <- NA
hs_missing$x9[rows %% 5 == 1 & hs_missing$x1 > 5] <- NA
hs_missing[rows %% 29 == 0, paste0("x", 1:9)] <- NA
write.csv(hs_missing, file.path(data_dir, "holzinger_swineford_missing.csv"),
          row.names = FALSE, na = "")
export("holzinger_swineford_missing_fiml", hs_model, hs_missing, missing = "ml")
export("holzinger_swineford_missing_covariates_fiml", hs_covariate_model, hs_missing,
       missing = "ml")

loyalty_model <- "
  SAT =~ sat1 + sat2 + sat3 + sat4
  VAL =~ val1 + val2 + val3
  TRU =~ tru1 + tru2 + tru3
  LOY =~ loy1 + loy2 + loy3
  VAL ~ a*SAT
  LOY ~ c*SAT + b*VAL
  ind := a*b
  total := c + a*b
"
export("loyalty_listwise", loyalty_model, loyalty)
export("loyalty_fiml", loyalty_model, loyalty, missing = "ml")

# Percentile bootstrap CIs of the defined parameters (Monte Carlo reference for bootstrap_sem).
set.seed(20240611)
boot_fit <- sem(loyalty_model, data = loyalty, se = "bootstrap", bootstrap = 2000)
boot_pe <- parameterEstimates(boot_fit, boot.ci.type = "perc")
boot_pe <- boot_pe[boot_pe$op == ":=", c("lhs", "est", "ci.lower", "ci.upper")]
writeLines(toJSON(list(model = loyalty_model, bootstrap = 2000, estimates = boot_pe),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "loyalty_bootstrap.json"))
cat("wrote loyalty_bootstrap.json\n")
