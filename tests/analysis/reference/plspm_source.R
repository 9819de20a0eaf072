# R plspm 0.4.9 from a source checkout (https://github.com/gastonstat/plspm), for
# pls_reference.R and bench/analysis.py: plspm is not packaged for Debian and CRAN is out of
# reach here. Its two small helper packages (tester, turner) are replaced by the few
# functions below; plspm_from_source(dir) returns an environment with plspm(), plspm.fit()
# and the internals they call (get_weights(), get_effects(), ...).

is_not_tabular <- function(x) !(is.matrix(x) || is.data.frame(x))
is_not_matrix <- function(x) !is.matrix(x)
is_square_matrix <- function(x) is.matrix(x) && nrow(x) == ncol(x)
is_lower_triangular <- function(x) all(x[upper.tri(x)] == 0)
is_positive_integer <- function(x) is.numeric(x) && all(x > 0) && all(x == round(x))
has_rownames <- function(x) !is.null(rownames(x))
has_colnames <- function(x) !is.null(colnames(x))
lacks_rownames <- function(x) is.null(rownames(x))
lacks_colnames <- function(x) is.null(colnames(x))
lacks_dimnames <- function(x) is.null(dimnames(x))
has_missing <- function(x) any(is.na(x))
indexify <- function(blocks) rep(seq_along(blocks), lengths(blocks))
list_to_dummy <- function(blocks) {
  index <- indexify(blocks)
  dummy <- matrix(0, length(index), length(blocks))
  dummy[cbind(seq_along(index), index)] <- 1
  dummy
}

plspm_from_source <- function(plspm_dir) {
  env <- new.env(parent = globalenv())
  for (f in c("plspm.r", "plspm.fit.r", "auxiliar.r", "check_arguments.r",
              "check_specifications.r", "get_effects.r", "get_generals.r", "get_gof.r",
              "get_inner_summary.r", "get_manifests.r", "get_metric.r", "get_path_scheme.r",
              "get_paths.r", "get_scores.r", "get_treated_data.r", "get_unidim.r",
              "get_weights.r", "test_manifest_scaling.r", "test_null_weights.r",
              "test_factors.r", "get_rho.r", "get_boots.r"))
    sys.source(file.path(plspm_dir, "R", f), envir = env)
  env
}
