# Reference numbers for analysis/pls from R plspm 0.4.9 and seminr 2.3.1, run from their
# sources (neither is packaged for Debian and CRAN is out of reach here; plspm through
# plspm_source.R), plus semTools (HTMT2) and boot (BCa intervals). Writes pls_reference.json
# next to this script and the two data sets into ../data/; the tests read those files only,
# R is needed just to regenerate them:
#
#   git clone https://github.com/gastonstat/plspm    # commit bd21cb153021aed6ac6ea51ecbd0b856495b2a16
#   git clone https://github.com/sem-in-r/seminr     # commit ae2524aae5f4f0bda3eb87faf80378af5baccea1
#   Rscript tests/analysis/reference/pls_reference.R path/to/plspm path/to/seminr
#
# Packages: lavaan, semTools, boot, jsonlite, glue (Debian: r-cran-lavaan r-cran-semtools
# r-cran-boot r-cran-jsonlite r-cran-glue). Both bootstraps take 5,000 resamples; expect a
# few minutes of CPU.
#
# Data: `satisfaction` (ECSI, 250 customers of a bank, 0-10 ratings) from plspm and `mobi`
# (ECSI for mobile phones, 250 customers, 1-10 ratings; Tenenhaus et al., 2005) from seminr,
# both GPL-3 like the packages.

options(warn = 1)
suppressPackageStartupMessages({
  library(semTools)
  library(boot)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- dirname(normalizePath(script))
data_dir <- file.path(dirname(here), "data")
sources <- commandArgs(trailingOnly = TRUE)
if (length(sources) != 2) stop("usage: Rscript pls_reference.R PLSPM_CHECKOUT SEMINR_CHECKOUT")
plspm_dir <- sources[1]
seminr_dir <- sources[2]

# --- plspm 0.4.9 from source --------------------------------------------------------------
source(file.path(here, "plspm_source.R"))
plspm_env <- plspm_from_source(plspm_dir)
plspm <- plspm_env$plspm
plspm.fit <- plspm_env$plspm.fit
load(file.path(plspm_dir, "data", "satisfaction.rda"))

# --- seminr 2.3.1 from source -------------------------------------------------------------
# Into the global environment, where S3 dispatch finds its summary() and predict() methods.
for (f in list.files(file.path(seminr_dir, "R"), full.names = TRUE)) {
  code <- gsub("seminr:::?", "", readLines(f, warn = FALSE))
  eval(parse(text = code), envir = globalenv())
}
seminr_info <- function() list(pkgname = "seminr", version = "2.3.1")
load(file.path(seminr_dir, "data", "mobi.rda"))

satisfaction_items <- satisfaction[, 1:27]
write.csv(satisfaction_items, file.path(data_dir, "ecsi_satisfaction.csv"), row.names = FALSE)
write.csv(mobi, file.path(data_dir, "mobi.csv"), row.names = FALSE)

named <- function(x) as.list(setNames(as.numeric(x), names(x)))
matrix_pairs <- function(m, value = "value") {
  rows <- which(m != 0, arr.ind = TRUE)
  lapply(seq_len(nrow(rows)), function(r) {
    out <- list(from = rownames(m)[rows[r, 1]], to = colnames(m)[rows[r, 2]])
    out[[value]] <- m[rows[r, 1], rows[r, 2]]
    out
  })
}
own_block <- function(m) {  # the one non-zero entry of each row of a weights/loadings matrix
  named(setNames(apply(m, 1, function(row) row[row != 0][1]), rownames(m)))
}

# --- ECSI (satisfaction) with plspm ---------------------------------------------------------
ECSI_MODEL <- "
IMAG =~ imag1 + imag2 + imag3 + imag4 + imag5
EXPE =~ expe1 + expe2 + expe3 + expe4 + expe5
QUAL =~ qual1 + qual2 + qual3 + qual4 + qual5
VAL =~ val1 + val2 + val3 + val4
SAT =~ sat1 + sat2 + sat3 + sat4
LOY =~ loy1 + loy2 + loy3 + loy4
EXPE ~ IMAG
QUAL ~ EXPE
VAL ~ EXPE + QUAL
SAT ~ IMAG + EXPE + QUAL + VAL
LOY ~ IMAG + SAT
"
IMAG <- c(0, 0, 0, 0, 0, 0)
EXPE <- c(1, 0, 0, 0, 0, 0)
QUAL <- c(0, 1, 0, 0, 0, 0)
VAL <- c(0, 1, 1, 0, 0, 0)
SAT <- c(1, 1, 1, 1, 0, 0)
LOY <- c(1, 0, 0, 0, 1, 0)
ecsi_path <- rbind(IMAG, EXPE, QUAL, VAL, SAT, LOY)
colnames(ecsi_path) <- rownames(ecsi_path)
ecsi_blocks <- list(1:5, 6:10, 11:15, 16:19, 20:23, 24:27)

plspm_solution <- function(scheme, scaled, modes = rep("A", 6)) {
  fit <- plspm(satisfaction_items, ecsi_path, ecsi_blocks, modes = modes, scheme = scheme,
               scaled = scaled, tol = 1e-10, maxiter = 500)
  effects <- fit$effects
  parts <- strsplit(as.character(effects$relationships), " -> ")
  list(
    weights = named(setNames(fit$outer_model$weight, fit$outer_model$name)),
    loadings = named(setNames(fit$outer_model$loading, fit$outer_model$name)),
    paths = matrix_pairs(t(fit$path_coefs), "path"),
    effects = lapply(seq_along(parts), function(i) list(
      from = parts[[i]][1], to = parts[[i]][2], direct = effects$direct[i],
      indirect = effects$indirect[i], total = effects$total[i])),
    r2 = named(setNames(fit$inner_summary$R2, rownames(fit$inner_summary))),
    ave = named(setNames(fit$inner_summary$AVE, rownames(fit$inner_summary))),
    alpha = named(setNames(fit$unidim$C.alpha, rownames(fit$unidim))),
    gof = fit$gof,
    crossloadings = lapply(split(fit$crossloadings[, -(1:2)], fit$crossloadings$name),
                           function(row) as.list(row))
  )
}
ecsi <- list(
  model = ECSI_MODEL,
  centroid_unscaled = plspm_solution("centroid", FALSE),
  factorial_unscaled = plspm_solution("factorial", FALSE),
  path_unscaled = plspm_solution("path", FALSE),
  centroid_scaled = plspm_solution("centroid", TRUE),
  mode_b_centroid_unscaled = plspm_solution("centroid", FALSE, modes = rep("B", 6))
)

# Bootstrap of the plspm solution (centroid, unscaled) with boot(); BCa from the jackknife.
ecsi_statistic <- function(d, i) {
  fit <- plspm.fit(d[i, ], ecsi_path, ecsi_blocks, scheme = "centroid", scaled = FALSE)
  totals <- get_effects_total(fit$path_coefs)
  c(fit$outer_model$weight, fit$outer_model$loading, t(fit$path_coefs)[t(ecsi_path) == 1],
    totals)
}
get_effects_total <- function(path_coefs) {
  reach <- plspm_env$get_effects(path_coefs)
  setNames(reach$total, reach$relationships)
}
describe_statistics <- function(kinds, from, to) {
  data.frame(kind = kinds, a = from, b = to, stringsAsFactors = FALSE)
}
bootstrap_reference <- function(data, statistic, labels, n_boot, seed) {
  set.seed(seed)
  b <- boot(data, statistic, R = n_boot)
  n <- nrow(data)
  jack <- t(sapply(seq_len(n), function(i) statistic(data, seq_len(n)[-i])))
  rows <- lapply(seq_along(b$t0), function(k) {
    draws <- b$t[, k]
    influence <- (n - 1) * (mean(jack[, k]) - jack[, k])
    constant <- sd(draws) < 1e-9  # a single item's weight and loading
    bca <- if (constant) rep(NA, 5) else boot.ci(b, type = "bca", index = k, L = influence)$bca
    c(labels[k, ], list(
      original = b$t0[k], mean = mean(draws), se = sd(draws),
      perc_lower = unname(quantile(draws, 0.025)), perc_upper = unname(quantile(draws, 0.975)),
      bca_lower = bca[4], bca_upper = bca[5],
      z0 = qnorm(mean(draws < b$t0[k])),
      acceleration = sum(influence^3) / (6 * sum(influence^2)^1.5)))
  })
  list(n_boot = n_boot, seed = seed, statistics = rows)
}
outer_names <- unlist(lapply(ecsi_blocks, function(b) colnames(satisfaction_items)[b]))
lvs <- rownames(ecsi_path)
block_of <- rep(lvs, lengths(ecsi_blocks))
path_pairs <- which(t(ecsi_path) == 1, arr.ind = TRUE)
effect_names <- names(get_effects_total(plspm.fit(satisfaction_items, ecsi_path, ecsi_blocks,
                                                  scaled = FALSE)$path_coefs))
effect_parts <- strsplit(effect_names, " -> ")
ecsi_labels <- rbind(
  describe_statistics("weight", block_of, outer_names),
  describe_statistics("loading", block_of, outer_names),
  describe_statistics("path", lvs[path_pairs[, 1]], lvs[path_pairs[, 2]]),
  describe_statistics("total", sapply(effect_parts, `[`, 1), sapply(effect_parts, `[`, 2))
)
ecsi$bootstrap <- bootstrap_reference(satisfaction_items, ecsi_statistic, ecsi_labels,
                                      n_boot = 5000, seed = 2024)

# --- mobi with seminr ---------------------------------------------------------------------
MOBI_COMPOSITE <- "
Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation =~ CUEX1 + CUEX2 + CUEX3
Quality <~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
Value =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Complaints =~ CUSCO
Loyalty =~ CUSL1 + CUSL2 + CUSL3
Expectation ~ Image
Quality ~ Expectation
Value ~ Expectation + Quality
Satisfaction ~ Image + Expectation + Quality + Value
Complaints ~ Satisfaction
Loyalty ~ Image + Satisfaction + Complaints
"
MOBI_REFLECTIVE <- sub("Quality <~", "Quality =~", MOBI_COMPOSITE)
mobi_sm <- relationships(
  paths(from = "Image", to = c("Expectation", "Satisfaction", "Loyalty")),
  paths(from = "Expectation", to = c("Quality", "Value", "Satisfaction")),
  paths(from = "Quality", to = c("Value", "Satisfaction")),
  paths(from = "Value", to = c("Satisfaction")),
  paths(from = "Satisfaction", to = c("Complaints", "Loyalty")),
  paths(from = "Complaints", to = "Loyalty")
)
# "Composite" mobi: reflective blocks as seminr's composite(mode_A), Quality a mode B
# composite; "reflective" mobi: every block reflective(), which seminr estimates by PLSc.
mobi_mm <- function(quality, block) constructs(
  block("Image", multi_items("IMAG", 1:5)),
  block("Expectation", multi_items("CUEX", 1:3)),
  quality,
  block("Value", multi_items("PERV", 1:2)),
  block("Satisfaction", multi_items("CUSA", 1:3)),
  block("Complaints", single_item("CUSCO")),
  block("Loyalty", multi_items("CUSL", 1:3))
)
composite_mm <- mobi_mm(composite("Quality", multi_items("PERQ", 1:7), weights = mode_B),
                        function(name, items) composite(name, items, weights = mode_A))
reflective_mm <- mobi_mm(reflective("Quality", multi_items("PERQ", 1:7)), reflective)

seminr_solution <- function(fit) {
  s <- summary(fit)
  list(
    weights = own_block(fit$outer_weights),
    loadings = own_block(fit$outer_loadings),
    paths = matrix_pairs(fit$path_coef, "path"),
    total = matrix_pairs(total_effects(fit$path_coef), "total"),
    r2 = lapply(as.data.frame(fit$rSquared), function(col) list(r2 = col[1], r2_adj = col[2])),
    reliability = lapply(split(as.data.frame(unclass(s$reliability)),
                               rownames(s$reliability)), as.list),
    htmt = matrix_pairs(replace(HTMT(fit), is.na(HTMT(fit)), 0), "htmt"),
    f2 = matrix_pairs(replace(unclass(s$fSquare), is.na(s$fSquare), 0), "f2"),
    vif_items = lapply(s$validity$vif_items, function(v) as.list(v)),
    vif_antecedents = lapply(s$vif_antecedents, function(v) as.list(v)),
    crossloadings = lapply(split(as.data.frame(s$validity$cross_loadings),
                                 rownames(s$validity$cross_loadings)), as.list)
  )
}
quiet <- function(expr) suppressMessages(expr)
composite_fit <- quiet(estimate_pls(mobi, composite_mm, mobi_sm, inner_weights = path_weighting))
reflective_fit <- quiet(estimate_pls(mobi, reflective_mm, mobi_sm, inner_weights = path_weighting))
factorial_fit <- quiet(estimate_pls(mobi, composite_mm, mobi_sm, inner_weights = path_factorial))
mobi_ref <- list(
  composite_model = MOBI_COMPOSITE,
  reflective_model = MOBI_REFLECTIVE,
  composite_path = seminr_solution(composite_fit),
  composite_factorial = seminr_solution(factorial_fit),
  plsc_path = seminr_solution(reflective_fit)
)
mobi_ref$plsc_path$rho_a <- named(rho_A(reflective_fit, reflective_fit$constructs)[, 1])

# HTMT2 (geometric means; semTools' default) of the multi-item reflective blocks.
htmt_model <- paste(grep("=~", strsplit(MOBI_REFLECTIVE, "\n")[[1]], value = TRUE),
                    collapse = "\n")
htmt2 <- semTools::htmt(htmt_model, data = mobi, htmt2 = TRUE)
mobi_ref$htmt2 <- matrix_pairs(replace(unclass(htmt2) * upper.tri(htmt2), is.na(htmt2), 0),
                               "htmt2")

# Bootstrap of the composite model (path weighting) with boot(); BCa from the jackknife.
mobi_items <- composite_fit$mmVariables
mobi_statistic <- function(d, i) {
  fit <- quiet(estimate_pls(d[i, ], composite_mm, mobi_sm, inner_weights = path_weighting))
  totals <- total_effects(fit$path_coef)
  c(apply(fit$outer_weights[mobi_items, ], 1, function(r) r[r != 0][1]),
    apply(fit$outer_loadings[mobi_items, ], 1, function(r) r[r != 0][1]),
    fit$path_coef[composite_fit$path_coef != 0], totals[total_effects(composite_fit$path_coef) != 0])
}
mobi_constructs <- colnames(composite_fit$outer_weights)
mobi_block <- apply(composite_fit$outer_weights[mobi_items, ], 1,
                    function(r) mobi_constructs[r != 0][1])
path_at <- which(composite_fit$path_coef != 0, arr.ind = TRUE)
total_at <- which(total_effects(composite_fit$path_coef) != 0, arr.ind = TRUE)
mobi_labels <- rbind(
  describe_statistics("weight", mobi_block, mobi_items),
  describe_statistics("loading", mobi_block, mobi_items),
  describe_statistics("path", mobi_constructs[path_at[, 1]], mobi_constructs[path_at[, 2]]),
  describe_statistics("total", mobi_constructs[total_at[, 1]], mobi_constructs[total_at[, 2]])
)
mobi_ref$bootstrap <- bootstrap_reference(mobi[, mobi_items], mobi_statistic, mobi_labels,
                                          n_boot = 5000, seed = 2025)

# Blindfolding (omission distance 7, cross-validated redundancy) with seminr estimates: the
# cells of an endogenous block are counted down the first item's column, then the next item's
# (Hair et al., 2022, ch. 6); in round d the cells d, d+7, ... are
# missing (seminr replaces them by the column mean), the model is re-estimated, and each
# left-out answer is predicted by mean + sd * loading * (paths' prediction of the construct).
blindfold <- function(fit, mm, distance = 7) {
  data <- mobi[, fit$mmVariables]
  n <- nrow(data)
  sapply(all_endogenous(fit$smMatrix), function(construct) {
    items <- fit$mmMatrix[fit$mmMatrix[, "construct"] == construct, "measurement"]
    cell <- outer(0:(n - 1), seq_along(items) - 1, function(r, k) k * n + r)
    sse <- sso <- 0
    for (d in 0:(distance - 1)) {
      omit <- cell %% distance == d
      blinded <- data
      for (k in seq_along(items)) blinded[omit[, k], items[k]] <- NA
      round_fit <- quiet(estimate_pls(blinded, mm, mobi_sm, inner_weights = path_weighting,
                                      missing = mean_replacement))
      proxy <- round_fit$construct_scores %*% round_fit$path_coef[, construct]
      loading <- round_fit$outer_loadings[items, construct]
      predicted <- sweep(outer(c(proxy), loading * round_fit$sdData[items]), 2,
                         round_fit$meanData[items], "+")
      actual <- as.matrix(data[, items])
      scaled <- function(m) sweep(m, 2, apply(data[, items, drop = FALSE], 2, sd), "/")
      sse <- sse + sum((scaled(actual - predicted)^2)[omit])
      sso <- sso + sum((scaled(sweep(actual, 2, colMeans(actual)))^2)[omit])
    }
    c(sse = sse, sso = sso, q2 = 1 - sse / sso)
  })
}
q2 <- blindfold(composite_fit, composite_mm)
mobi_ref$blindfolding <- list(
  omission_distance = 7,
  constructs = setNames(lapply(colnames(q2), function(c) as.list(q2[, c])), colnames(q2))
)

# PLSpredict with fixed folds (row i in fold (i - 1) %% 10), seminr's predict() with earliest
# antecedents, and lm() of each endogenous item on the exogenous (Image) items.
folds <- (seq_len(nrow(mobi)) - 1) %% 10
endogenous <- all_endogenous(mobi_sm)
targets <- unlist(lapply(endogenous, function(c)
  composite_fit$mmMatrix[composite_fit$mmMatrix[, "construct"] == c, "measurement"]))
exogenous_items <- multi_items("IMAG", 1:5)
pls_pred <- lm_pred <- mean_pred <- matrix(NA, nrow(mobi), length(targets),
                                           dimnames = list(NULL, targets))
for (f in unique(folds)) {
  test <- folds == f
  train_fit <- quiet(estimate_pls(mobi[!test, ], composite_mm, mobi_sm,
                                  inner_weights = path_weighting))
  predicted <- predict(train_fit, mobi[test, ], technique = predict_EA)
  pls_pred[test, ] <- as.matrix(predicted$predicted_items[, targets])
  for (item in targets) {
    train <- data.frame(y = mobi[!test, item], mobi[!test, exogenous_items])
    lm_pred[test, item] <- predict(lm(y ~ ., data = train), mobi[test, exogenous_items])
    mean_pred[test, item] <- mean(mobi[!test, item])
  }
}
actual <- as.matrix(mobi[, targets])
mobi_ref$plspredict <- list(
  folds = "row i (from 1) in fold (i - 1) %% 10",
  items = lapply(unname(targets), function(item) list(
    item = item,
    q2_predict = 1 - sum((actual[, item] - pls_pred[, item])^2) /
      sum((actual[, item] - mean_pred[, item])^2),
    pls_rmse = sqrt(mean((actual[, item] - pls_pred[, item])^2)),
    pls_mae = mean(abs(actual[, item] - pls_pred[, item])),
    lm_rmse = sqrt(mean((actual[, item] - lm_pred[, item])^2)),
    lm_mae = mean(abs(actual[, item] - lm_pred[, item]))))
)

# ACSI indices (Fornell et al., 1996) and IPMA on Loyalty (Ringle & Sarstedt, 2016) on the
# 1-10 scale from seminr's weights.
scale_min <- 1
scale_max <- 10
unstandardized <- sweep(composite_fit$outer_weights, 1, composite_fit$sdData[mobi_items], "/")
shares <- sweep(unstandardized, 2, colSums(unstandardized), "/")
rescaled_items <- (as.matrix(mobi[, mobi_items]) - scale_min) / (scale_max - scale_min) * 100
index_scores <- rescaled_items %*% shares
unstandardized_paths <- composite_fit$path_coef * 0
for (outcome in endogenous) {
  predictors <- mobi_sm[mobi_sm[, "target"] == outcome, "source"]
  fit_lm <- lm(index_scores[, outcome] ~ index_scores[, predictors, drop = FALSE])
  unstandardized_paths[predictors, outcome] <- coef(fit_lm)[-1]
}
importance <- total_effects(unstandardized_paths)[, "Loyalty"]
drivers <- names(importance)[importance != 0]
mobi_ref$index <- list(scale_min = scale_min, scale_max = scale_max,
                       constructs = named(colMeans(index_scores)))
mobi_ref$ipma <- list(
  target = "Loyalty",
  constructs = lapply(drivers, function(c) list(construct = c, importance = importance[[c]],
                                                performance = mean(index_scores[, c]))),
  items = lapply(mobi_items[mobi_block %in% drivers], function(item) list(
    item = item,
    importance = shares[item, mobi_block[[item]]] * importance[[mobi_block[[item]]]],
    performance = mean(rescaled_items[, item])))
)

reference <- list(
  meta = list(
    R = R.version.string,
    plspm = "0.4.9, gastonstat/plspm@bd21cb153021aed6ac6ea51ecbd0b856495b2a16",
    seminr = "2.3.1, sem-in-r/seminr@ae2524aae5f4f0bda3eb87faf80378af5baccea1",
    semTools = as.character(packageVersion("semTools")),
    boot = as.character(packageVersion("boot"))
  ),
  ecsi = ecsi,
  mobi = mobi_ref
)
writeLines(toJSON(reference, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "pls_reference.json"))
