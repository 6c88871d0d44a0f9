# Reference numbers for crates/ikd-analysis/tests/dif.rs (DIF).
#
# Run from this directory with R >= 4 (stats and MASS only):
#   Rscript dif.R
# It writes the data sets dif_binary.csv and dif_ordinal.csv and the numbers
# R computes on them (dif_mh.csv, dif_mh_generalized.csv, dif_polr.csv).
# The tests read the committed files; they never run R.
set.seed(20240615)
regions <- c("Cilegon", "Gunungkidul", "Samarinda") # sorted; Cilegon is the reference

## 1. Eight 0/1 Rasch items, three regions of unequal size and ability,
##    uniform DIF planted in item 3 (Samarinda, +0.8 logits harder) and
##    item 6 (Gunungkidul, 0.6 logits easier); a few missing answers.
n <- c(Cilegon = 400, Gunungkidul = 300, Samarinda = 350)
mu <- c(Cilegon = 0, Gunungkidul = -0.4, Samarinda = 0.3)
b <- c(-1.2, -0.6, -0.2, 0, 0.3, 0.6, 1.0, 1.4)
group <- rep(regions, times = n[regions])
theta <- rnorm(length(group), mu[group], 1)
shift <- matrix(0, length(group), length(b))
shift[group == "Samarinda", 3] <- 0.8
shift[group == "Gunungkidul", 6] <- -0.6
p <- plogis(outer(theta, b, "-") - shift)
x <- matrix(rbinom(length(p), 1, p), nrow(p))
x[sample(length(x), 30)] <- NA
colnames(x) <- paste0("i", seq_along(b))
bin <- data.frame(group = group, x)
write.csv(bin, "dif_binary.csv", row.names = FALSE, na = "")

cc <- bin[complete.cases(bin), ]
total <- rowSums(cc[, -1])
mh_rows <- list()
gen_rows <- list()
for (j in seq_along(b)) {
  y <- cc[[paste0("i", j)]]
  for (f in regions[-1]) {
    keep <- cc$group %in% c("Cilegon", f)
    tab <- table(factor(cc$group[keep], levels = c("Cilegon", f)),
                 factor(y[keep], levels = c(1, 0)), total[keep])
    tab <- tab[, , apply(tab, 3, sum) >= 2, drop = FALSE]
    t <- mantelhaen.test(tab) # continuity correction on (the default)
    mh_rows[[length(mh_rows) + 1]] <- data.frame(
      item = j, focal = f, statistic = unname(t$statistic), p = t$p.value,
      odds_ratio = unname(t$estimate), lower = t$conf.int[1], upper = t$conf.int[2],
      statistic_uncorrected = unname(mantelhaen.test(tab, correct = FALSE)$statistic))
  }
  tab <- table(factor(cc$group, levels = regions), factor(y, levels = c(1, 0)), total)
  tab <- tab[, , apply(tab, 3, sum) >= 2, drop = FALSE]
  t <- mantelhaen.test(tab)
  gen_rows[[j]] <- data.frame(item = j, statistic = unname(t$statistic),
                              df = unname(t$parameter), p = t$p.value)
}
mh <- do.call(rbind, mh_rows)
mh$p_bh <- ave(mh$p, mh$focal, FUN = function(p) p.adjust(p, method = "BH"))
gen <- do.call(rbind, gen_rows)
gen$p_bh <- p.adjust(gen$p, method = "BH")
# Matched on the rest score instead: item 3, Samarinda against Cilegon.
keep <- cc$group %in% c("Cilegon", "Samarinda")
tab <- table(factor(cc$group[keep], levels = c("Cilegon", "Samarinda")),
             factor(cc$i3[keep], levels = c(1, 0)), (total - cc$i3)[keep])
tab <- tab[, , apply(tab, 3, sum) >= 2, drop = FALSE]
t <- mantelhaen.test(tab)
mh <- rbind(mh, data.frame(item = 3, focal = "Samarinda-rest", statistic = unname(t$statistic),
  p = t$p.value, odds_ratio = unname(t$estimate), lower = t$conf.int[1], upper = t$conf.int[2],
  statistic_uncorrected = unname(mantelhaen.test(tab, correct = FALSE)$statistic), p_bh = NA))
write.csv(format(mh, digits = 15), "dif_mh.csv", row.names = FALSE, quote = FALSE)
write.csv(format(gen, digits = 15), "dif_mh_generalized.csv", row.names = FALSE, quote = FALSE)

## 2. Six items scored 1-5 (partial credit model), the same regions; uniform
##    DIF in item 2 (Samarinda, steps +0.7), non-uniform in item 5
##    (Gunungkidul: the item discriminates less there); item 6 is 0/1.
n <- c(Cilegon = 300, Gunungkidul = 250, Samarinda = 280)
group <- rep(regions, times = n[regions])
theta <- rnorm(length(group), mu[group], 1)
pcm <- function(theta, steps, a = 1) {
  k <- length(steps)
  num <- sapply(0:k, function(s) if (s == 0) 0 * theta else a * (s * theta - sum(steps[1:s])))
  num <- exp(num - apply(num, 1, max))
  pr <- num / rowSums(num)
  apply(pr, 1, function(q) sample(0:k, 1, prob = q))
}
steps <- list(c(-1.5, -0.5, 0.4, 1.2), c(-1, -0.2, 0.5, 1.5), c(-2, -1, 0, 1),
              c(-0.8, 0, 0.6, 1.0), c(-1.2, -0.4, 0.3, 1.1), 0.2)
ord <- sapply(seq_along(steps), function(j) {
  s <- rep(0, length(group))
  for (r in regions) {
    idx <- group == r
    st <- steps[[j]] + if (j == 2 && r == "Samarinda") 0.7 else 0
    a <- if (j == 5 && r == "Gunungkidul") 0.4 else 1
    s[idx] <- pcm(theta[idx], st, a)
  }
  s + if (j < 6) 1 else 0
})
colnames(ord) <- paste0("i", seq_along(steps))
ordd <- data.frame(group = group, ord)
write.csv(ordd, "dif_ordinal.csv", row.names = FALSE)

suppressPackageStartupMessages(library(MASS))
total <- rowSums(ord)
g <- factor(group, levels = regions)
ctl <- list(reltol = 1e-15, maxit = 100000)
rows <- list()
for (j in seq_along(steps)) {
  y <- factor(ord[, j])
  forms <- list(y ~ total, y ~ total + g, y ~ total + g + total:g)
  for (m in 1:3) {
    if (nlevels(y) > 2) {
      fit <- polr(forms[[m]], method = "logistic", control = ctl)
      ll <- as.numeric(logLik(fit)); zeta <- fit$zeta; beta <- coef(fit)
    } else {
      fit <- glm(forms[[m]], family = binomial, control = list(epsilon = 1e-14, maxit = 100))
      ll <- as.numeric(logLik(fit)); zeta <- -coef(fit)[1]; beta <- coef(fit)[-1]
    }
    rows[[length(rows) + 1]] <- data.frame(
      item = j, model = m, loglik = ll,
      zeta = paste(format(zeta, digits = 15), collapse = ";"),
      beta = paste(format(beta, digits = 15), collapse = ";"))
  }
}
polr_out <- do.call(rbind, rows)
write.csv(format(polr_out, digits = 15), "dif_polr.csv", row.names = FALSE, quote = FALSE)
# Likelihood-ratio p-values and their BH adjustment (any DIF, 4 df), for the record.
ll <- matrix(polr_out$loglik, ncol = 3, byrow = TRUE)
lr <- data.frame(item = seq_along(steps), both = 2 * (ll[, 3] - ll[, 1]))
lr$p <- pchisq(lr$both, 4, lower.tail = FALSE)
lr$p_bh <- p.adjust(lr$p, method = "BH")
write.csv(format(lr, digits = 15), "dif_lr.csv", row.names = FALSE, quote = FALSE)
cat(R.version.string, "MASS", as.character(packageVersion("MASS")), "\n")
