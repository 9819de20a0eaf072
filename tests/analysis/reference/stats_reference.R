# Reference numbers from R for analysis/ (reliability, validity, descriptives, correlations,
# group comparisons, drivers, NPS). Writes stats_reference.json next to this script; the tests
# read that file only, R is needed just to regenerate it:
#
#   python tests/analysis/reference/make_loyalty_sim.py        # if loyalty_sim.csv is missing
#   python tests/analysis/reference/make_loyalty_segments.py
#   Rscript tests/analysis/reference/stats_reference.R
#
# Packages: lavaan, psych, semTools, e1071, jsonlite (Debian: r-cran-lavaan r-cran-psych
# r-cran-semtools r-cran-e1071 r-cran-jsonlite).

options(warn = 1)
suppressPackageStartupMessages({
  library(lavaan)
  library(psych)
  library(semTools)
  library(e1071)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- dirname(normalizePath(script))
data_dir <- file.path(dirname(here), "data")

segments <- read.csv(file.path(data_dir, "loyalty_segments.csv"))
segments$sat4 <- 8 - segments$sat4  # reverse-keyed item, 7-point scale
hs <- read.csv(file.path(data_dir, "holzinger_swineford.csv"))

datasets <- list(
  loyalty = list(
    data = segments,
    constructs = list(SAT = c("sat1", "sat2", "sat3", "sat4"), VAL = c("val1", "val2", "val3"),
                      TRU = c("tru1", "tru2", "tru3"), LOY = c("loy1", "loy2", "loy3"))
  ),
  holzinger_swineford = list(
    data = hs,
    constructs = list(visual = c("x1", "x2", "x3"), textual = c("x4", "x5", "x6"),
                      speed = c("x7", "x8", "x9"))
  )
)

measurement_syntax <- function(constructs) {
  paste(sprintf("%s =~ %s", names(constructs), sapply(constructs, paste, collapse = " + ")),
        collapse = "\n")
}

reliability_reference <- function(data, constructs) {
  items <- unlist(constructs, use.names = FALSE)
  complete <- data[complete.cases(data[, items]), items]
  model <- measurement_syntax(constructs)
  fit <- cfa(model, data = complete)
  std <- standardizedSolution(fit)
  loadings <- std[std$op == "=~", ]
  # CR and AVE are defined on standardized loadings. semTools computes them from the
  # unstandardized solution (items weighted by their variances), so they are taken here from a
  # fit to z-scored items, where both agree with the standardized definitions; the raw-metric
  # values are kept to document the difference.
  standardized_fit <- cfa(model, data = as.data.frame(scale(complete)))
  ave_standardized <- AVE(standardized_fit, obs.var = FALSE)
  cr_standardized <- compRelSEM(standardized_fit, obs.var = FALSE)
  ave_raw <- AVE(fit)
  cr_raw <- compRelSEM(fit, obs.var = FALSE)
  per_construct <- lapply(names(constructs), function(name) {
    construct_items <- constructs[[name]]
    a <- psych::alpha(complete[, construct_items], warnings = FALSE)
    one_factor <- cfa(sprintf("%s =~ %s", name, paste(construct_items, collapse = " + ")),
                      data = complete, std.lv = TRUE)
    lambda <- loadings$est.std[loadings$lhs == name]
    list(
      n = nrow(complete),
      n_items = length(construct_items),
      alpha = a$total$raw_alpha,
      alpha_ci_lower = a$feldt$lower.ci$raw_alpha,
      alpha_ci_upper = a$feldt$upper.ci$raw_alpha,
      omega = unname(compRelSEM(one_factor, obs.var = FALSE)[[name]]),
      cr = unname(cr_standardized[[name]]),
      ave = unname(ave_standardized[[name]]),
      # The same formulas (Fornell & Larcker, 1981) on lavaan's standardized loadings.
      cr_formula = sum(lambda)^2 / (sum(lambda)^2 + sum(1 - lambda^2)),
      ave_formula = mean(lambda^2),
      cr_raw_metric = unname(cr_raw[[name]]),
      ave_raw_metric = unname(ave_raw[[name]]),
      items = data.frame(item = construct_items,
                         r_drop = a$item.stats$r.drop,
                         alpha_if_deleted = a$alpha.drop$raw_alpha,
                         std_loading = lambda)
    )
  })
  names(per_construct) <- names(constructs)
  latent_cor <- lavInspect(fit, "cor.lv")
  list(
    n = nrow(complete),
    measurement_fit = as.list(fitMeasures(fit, c("chisq", "df", "pvalue", "cfi", "tli", "rmsea",
                                                 "srmr", "aic", "bic"))),
    constructs = per_construct,
    latent_correlations = unclass(latent_cor),
    latent_names = rownames(latent_cor),
    htmt = unclass(htmt(model, data = complete, htmt2 = FALSE)),
    htmt2 = unclass(htmt(model, data = complete, htmt2 = TRUE)),
    htmt_names = names(constructs),
    mardia = mardia_reference(complete)
  )
}

mardia_reference <- function(x) {
  m <- psych::mardia(x, plot = FALSE)
  m[c("n.obs", "n.var", "b1p", "b2p", "skew", "small.skew", "p.skew", "p.small", "kurtosis",
      "p.kurt")]
}

describe_reference <- function(x) {
  x <- x[!is.na(x)]
  d <- psych::describe(x)
  list(n = d$n, mean = d$mean, sd = d$sd, median = d$median, min = d$min, max = d$max,
       skew = list(e1071::skewness(x, type = 1), e1071::skewness(x, type = 2),
                   e1071::skewness(x, type = 3)),
       kurtosis = list(e1071::kurtosis(x, type = 1), e1071::kurtosis(x, type = 2),
                       e1071::kurtosis(x, type = 3)),
       psych_skew = d$skew, psych_kurtosis = d$kurtosis)
}

# Construct scores: row means of the available items of each construct.
loyalty_constructs <- datasets$loyalty$constructs
scores <- as.data.frame(lapply(loyalty_constructs, function(items)
  rowMeans(segments[, items], na.rm = TRUE)))
scores[is.na(scores)] <- NA
scores$tier <- segments$tier
scores$wave <- segments$wave

correlation_reference <- function(scores, names) {
  rows <- list()
  for (method in c("pearson", "spearman")) {
    block <- list()
    for (i in seq_along(names)) for (j in seq_along(names)) if (i < j) {
      test <- suppressWarnings(cor.test(scores[[names[i]]], scores[[names[j]]], method = method,
                                        exact = FALSE))
      complete <- complete.cases(scores[[names[i]]], scores[[names[j]]])
      n <- sum(complete)
      r <- unname(test$estimate)
      z <- qnorm(0.975) / sqrt(n - 3)
      block[[length(block) + 1]] <- list(
        x = names[i], y = names[j], method = method, n = n, r = r, pvalue = test$p.value,
        # Pearson's interval from cor.test itself; Spearman's by the same Fisher-z formula.
        ci_lower = if (method == "pearson") test$conf.int[1] else tanh(atanh(r) - z),
        ci_upper = if (method == "pearson") test$conf.int[2] else tanh(atanh(r) + z))
    }
    holm <- p.adjust(sapply(block, `[[`, "pvalue"), method = "holm")
    for (k in seq_along(block)) block[[k]]$pvalue_holm <- holm[k]
    rows <- c(rows, block)
  }
  rows
}

# Hedges' g with the noncentral-t interval (as effectsize::hedges_g), from base R.
hedges_reference <- function(x, y, level = 0.95) {
  x <- x[!is.na(x)]; y <- y[!is.na(y)]
  nx <- length(x); ny <- length(y); df <- nx + ny - 2
  sp <- sqrt(((nx - 1) * var(x) + (ny - 1) * var(y)) / df)
  d <- (mean(x) - mean(y)) / sp
  J <- exp(lgamma(df / 2) - log(sqrt(df / 2)) - lgamma((df - 1) / 2))
  scale <- sqrt(1 / nx + 1 / ny)
  t <- d / scale
  alpha <- 1 - level
  ncp_for <- function(p) uniroot(function(ncp) pt(t, df, ncp) - p, c(t - 6, t + 6),
                                 tol = 1e-12)$root
  list(g = J * d, ci_lower = J * ncp_for(1 - alpha / 2) * scale,
       ci_upper = J * ncp_for(alpha / 2) * scale)
}

# Eta squared with the noncentral-F interval (Steiger, 2004) and omega squared, from aov.
eta_reference <- function(y, g, level = 0.95) {
  keep <- !is.na(y) & !is.na(g)
  y <- y[keep]; g <- factor(g[keep])
  tab <- summary(aov(y ~ g))[[1]]
  ss_between <- tab[1, "Sum Sq"]; ss_within <- tab[2, "Sum Sq"]
  df1 <- tab[1, "Df"]; df2 <- tab[2, "Df"]; f <- tab[1, "F value"]
  n <- length(y); ms_within <- ss_within / df2
  alpha <- 1 - level
  ncp_for <- function(p) {
    if (pf(f, df1, df2) <= p) return(0)
    uniroot(function(ncp) pf(f, df1, df2, ncp) - p, c(0, 10 * f * df1 + 100), tol = 1e-12)$root
  }
  lower <- ncp_for(1 - alpha / 2); upper <- ncp_for(alpha / 2)
  list(eta_squared = ss_between / (ss_between + ss_within),
       eta_squared_ci_lower = lower / (lower + n), eta_squared_ci_upper = upper / (upper + n),
       omega_squared = max(0, (ss_between - df1 * ms_within) / (ss_between + ss_within + ms_within)))
}

# Games-Howell pairs (Games & Howell, 1976) from base R's studentized range.
games_howell_reference <- function(y, g) {
  keep <- !is.na(y) & !is.na(g)
  y <- y[keep]; g <- g[keep]
  groups <- sort(unique(g)); k <- length(groups)
  out <- list()
  for (i in seq_len(k - 1)) for (j in (i + 1):k) {
    a <- y[g == groups[i]]; b <- y[g == groups[j]]
    va <- var(a) / length(a); vb <- var(b) / length(b)
    se <- sqrt(va + vb)
    df <- (va + vb)^2 / (va^2 / (length(a) - 1) + vb^2 / (length(b) - 1))
    t <- (mean(a) - mean(b)) / se
    out[[length(out) + 1]] <- list(group_a = groups[i], group_b = groups[j],
                                   diff = mean(a) - mean(b), se = se, t = t, df = df,
                                   pvalue = ptukey(abs(t) * sqrt(2), k, df, lower.tail = FALSE),
                                   hedges = hedges_reference(a, b))
  }
  out
}

compare_reference <- function(scores, variables) {
  tier <- lapply(variables, function(v) {
    welch <- oneway.test(scores[[v]] ~ scores$tier, var.equal = FALSE)
    c(list(variable = v, statistic = unname(welch$statistic),
           df1 = unname(welch$parameter[1]), df2 = unname(welch$parameter[2]),
           pvalue = welch$p.value, games_howell = games_howell_reference(scores[[v]], scores$tier)),
      eta_reference(scores[[v]], scores$tier))
  })
  # Two groups: gold vs bronze.
  two <- scores[scores$tier %in% c("gold", "bronze"), ]
  two_groups <- lapply(variables, function(v) {
    gold <- two[[v]][two$tier == "gold"]; bronze <- two[[v]][two$tier == "bronze"]
    welch <- t.test(bronze, gold, var.equal = FALSE)
    c(list(variable = v, statistic = unname(welch$statistic), df = unname(welch$parameter),
           pvalue = welch$p.value, hedges = hedges_reference(bronze, gold)),
      eta_reference(two[[v]], two$tier))
  })
  # Wave to wave: later minus earlier.
  waves <- lapply(variables, function(v) {
    lapply(1:2, function(w) {
      before <- scores[[v]][scores$wave == w]; after <- scores[[v]][scores$wave == w + 1]
      welch <- t.test(after, before, var.equal = FALSE)
      list(variable = v, wave_from = w, wave_to = w + 1,
           change = mean(after, na.rm = TRUE) - mean(before, na.rm = TRUE),
           t = unname(welch$statistic), df = unname(welch$parameter), pvalue = welch$p.value,
           hedges = hedges_reference(after, before))
    })
  })
  list(tier = tier, gold_bronze = two_groups, waves = waves)
}

satisfaction_trap_reference <- function(scores) {
  centred <- scores$SAT - mean(scores$SAT[complete.cases(scores$SAT, scores$LOY)])
  fit <- lm(scores$LOY ~ centred + I(centred^2))
  coefs <- summary(fit)$coefficients
  list(n = nobs(fit), r_squared = summary(fit)$r.squared,
       estimate = unname(coefs[, 1]), se = unname(coefs[, 2]), t = unname(coefs[, 3]),
       pvalue = unname(coefs[, 4]))
}

# Net Promoter Score: Wald interval of the multinomial difference (Rocks, 2016).
nps_reference <- function(x) {
  x <- x[!is.na(x)]; n <- length(x)
  p <- mean(x >= 9); d <- mean(x <= 6)
  se <- 100 * sqrt((p + d - (p - d)^2) / n)
  list(n = n, promoters_pct = 100 * p, detractors_pct = 100 * d, nps = 100 * (p - d), se = se,
       ci_lower = 100 * (p - d) - qnorm(0.975) * se, ci_upper = 100 * (p - d) + qnorm(0.975) * se)
}

# Items with their reverse-keyed recode, as analysed; describe on all (not listwise) rows.
loyalty_items <- unlist(loyalty_constructs, use.names = FALSE)
descriptives <- lapply(c(loyalty_items, names(loyalty_constructs)), function(name) {
  x <- if (name %in% loyalty_items) segments[[name]] else scores[[name]]
  c(list(variable = name), describe_reference(x),
    list(top2_pct = 100 * mean(x[!is.na(x)] >= 6), bottom2_pct = 100 * mean(x[!is.na(x)] <= 2)))
})

reference <- list(
  r_version = R.version.string,
  packages = lapply(c(lavaan = "lavaan", psych = "psych", semTools = "semTools",
                      e1071 = "e1071"), function(p) as.character(packageVersion(p))),
  reliability = lapply(datasets, function(d) reliability_reference(d$data, d$constructs)),
  descriptives = descriptives,
  correlations = correlation_reference(scores, names(loyalty_constructs)),
  compare = compare_reference(scores, names(loyalty_constructs)),
  satisfaction_trap = satisfaction_trap_reference(scores),
  nps = nps_reference(segments$ltr)
)

path <- file.path(here, "stats_reference.json")
writeLines(toJSON(reference, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE,
                  dataframe = "rows", matrix = "rowmajor"), path)
cat("wrote", path, "\n")
