# Reference numbers for crates/ikd-analysis's CFA and composite reliability.
#
#   Rscript crates/ikd-analysis/tests/reference/cfa.R   (from the workspace root)
#
# Writes, next to this script:
#   holzinger-swineford.csv  x1..x9 of lavaan's HolzingerSwineford1939 (301 rows)
#   ikd-simulated.csv        500 simulated respondents × 24 items in 5 domains
#   cfa-reference.csv        lavaan / psych estimates the Rust tests compare with
#
# The Rust tests never run R: they read these files. Both fits are read back from
# the CSV files written here, so R and Rust see exactly the same numbers.
# Versions used for the committed numbers: see the "meta" rows of cfa-reference.csv.
suppressPackageStartupMessages({
  library(lavaan)
  library(psych)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "."
path <- function(f) file.path(here, f)

# --- data -------------------------------------------------------------------
hs <- HolzingerSwineford1939[, paste0("x", 1:9)]
write.csv(hs, path("holzinger-swineford.csv"), row.names = FALSE)
hs <- read.csv(path("holzinger-swineford.csv"))

# IKD-like: 5 correlated domains with 5, 4, 6, 5, 4 items; most items a
# 1-5 Likert category, every third item of a domain a 0/1 "performance" item.
set.seed(20250115, kind = "Mersenne-Twister", normal.kind = "Inversion",
         sample.kind = "Rejection")
sizes <- c(5, 4, 6, 5, 4)
n <- 500
phi <- matrix(0.45, 5, 5); diag(phi) <- 1
phi[1, 2] <- phi[2, 1] <- 0.6
phi[4, 5] <- phi[5, 4] <- 0.3
eta <- matrix(rnorm(n * 5), n, 5) %*% chol(phi)
sim <- NULL
names <- NULL
for (d in 1:5) {
  for (i in 1:sizes[d]) {
    lambda <- 0.5 + 0.3 * ((i * 7 + d) %% 4) / 3
    y <- lambda * eta[, d] + sqrt(1 - lambda^2) * rnorm(n)
    x <- if (i %% 3 == 0) as.integer(y > 0.2) else
      as.integer(cut(y, c(-Inf, -1.3, -0.5, 0.3, 1.1, Inf)))
    sim <- cbind(sim, x)
    names <- c(names, sprintf("D%dI%d", d, i))
  }
}
colnames(sim) <- names
write.csv(sim, path("ikd-simulated.csv"), row.names = FALSE)
sim <- read.csv(path("ikd-simulated.csv"))

# --- models -----------------------------------------------------------------
syntax <- function(groups) {
  paste(sprintf("F%d =~ %s", seq_along(groups),
                sapply(groups, paste, collapse = " + ")), collapse = "\n")
}
hs3 <- list(paste0("x", 1:3), paste0("x", 4:6), paste0("x", 7:9))
hs1 <- list(paste0("x", 1:9))
sim_groups <- split(names, rep(1:5, sizes))
sim1 <- list(names)

rows <- list()
put <- function(dataset, model, quantity, i, j, value) {
  rows[[length(rows) + 1]] <<- data.frame(
    dataset = dataset, model = model, quantity = quantity, i = i, j = j,
    value = if (is.character(value)) value else sprintf("%.12g", value))
}

fit_and_record <- function(data, dataset, model, groups) {
  fit <- cfa(syntax(groups), data = data, std.lv = TRUE)  # ML, likelihood "normal"
  est <- lavInspect(fit, "est")
  std <- lavInspect(fit, "std")
  items <- colnames(data)
  lambda <- est$lambda[items, , drop = FALSE]
  theta <- diag(est$theta)[items]
  for (f in seq_along(groups)) for (v in groups[[f]]) {
    j <- match(v, items) - 1
    put(dataset, model, "loading", j, f - 1, lambda[v, f])
    put(dataset, model, "std_loading", j, f - 1, std$lambda[v, f])
  }
  for (v in items) put(dataset, model, "residual", match(v, items) - 1, "", theta[v])
  if (length(groups) > 1)
    for (f in 2:length(groups)) for (g in 1:(f - 1))
      put(dataset, model, "factor_cor", f - 1, g - 1, est$psi[f, g])
  fm <- fitMeasures(fit, c("chisq", "df", "pvalue", "baseline.chisq", "baseline.df",
                           "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
                           "rmsea.pvalue", "srmr", "fmin", "npar", "ntotal"))
  for (m in names(fm)) put(dataset, model, m, "", "", fm[[m]])
  put(dataset, model, "converged", "", "", as.numeric(lavInspect(fit, "converged")))

  # Composite reliability from the estimates (std.lv: factor variances 1).
  # Per factor: omega_f = (sum lambda)^2 / ((sum lambda)^2 + sum theta).
  # Total, for the sum of all items (Raykov & Shrout 2002; Bentler 2009):
  # omega = 1' Lambda Phi Lambda' 1 / 1' Sigma_hat 1.
  L <- lambda
  P <- est$psi
  for (f in seq_along(groups)) {
    s <- sum(L[groups[[f]], f])
    put(dataset, model, "omega", f - 1, "", s^2 / (s^2 + sum(theta[groups[[f]]])))
  }
  common <- sum(L %*% P %*% t(L))
  put(dataset, model, "omega_total", "", "", common / (common + sum(theta)))
  # The same ratio with the observed (N-denominator) covariance of the sum.
  S <- lavInspect(fit, "sampstat")$cov[items, items]
  put(dataset, model, "omega_total_observed", "", "", common / sum(S))
  fit
}

invisible(fit_and_record(hs, "holzinger-swineford", "three-factor", hs3))
invisible(fit_and_record(hs, "holzinger-swineford", "one-factor", hs1))
invisible(fit_and_record(sim, "ikd-simulated", "five-factor", sim_groups))
invisible(fit_and_record(sim, "ikd-simulated", "one-factor", sim1))

# --- alpha: per domain (psych), and stratified over the domains ---------------
# Stratified alpha (Cronbach, Schoenemann & McKie 1965):
#   1 - sum_h var(X_h) (1 - alpha_h) / var(X), X_h the sum of stratum h, X the total.
stratified <- function(data, groups, dataset) {
  parts <- 0
  for (h in seq_along(groups)) {
    a <- psych::alpha(data[, groups[[h]]], warnings = FALSE)$total$raw_alpha
    put(dataset, "five-factor", "alpha", h - 1, "", a)
    parts <- parts + var(rowSums(data[, groups[[h]]])) * (1 - a)
  }
  put(dataset, "five-factor", "stratified_alpha", "", "",
      1 - parts / var(rowSums(data[, unlist(groups)])))
  put(dataset, "five-factor", "alpha_all", "", "",
      psych::alpha(data[, unlist(groups)], warnings = FALSE)$total$raw_alpha)
}
stratified(sim, sim_groups, "ikd-simulated")

put("meta", "", "R", "", "", paste(R.version$major, R.version$minor, sep = "."))
put("meta", "", "lavaan", "", "", as.character(packageVersion("lavaan")))
put("meta", "", "psych", "", "", as.character(packageVersion("psych")))
out <- do.call(rbind, rows)
write.csv(out, path("cfa-reference.csv"), row.names = FALSE, quote = FALSE)
cat("wrote", nrow(out), "rows\n")
