# Times lavaan on the data of `cargo run --release -p ikd-analysis --example cfa_timing -- --csv PATH`
# (100 000 respondents x 60 items, 5 factors of 12), to compare with the Rust fit.
#
#   Rscript crates/ikd-analysis/tests/reference/cfa-timing.R PATH
#
# Not a test and not run by the tests: it prints timings and the estimates the
# example prints, so that the two runs can be seen to solve the same problem.
suppressPackageStartupMessages(library(lavaan))
path <- commandArgs(trailingOnly = TRUE)[1]
data <- read.csv(path)
model <- paste(sprintf("D%d =~ %s", 1:5, sapply(0:4, function(d)
  paste(sprintf("y%d", d * 12 + 1:12), collapse = " + "))), collapse = "\n")

median_time <- function(run, times = 5) {
  t <- sapply(seq_len(times), function(i) system.time(run())[["elapsed"]])
  c(median = median(t), min = min(t))
}
cov_time <- system.time(S <- cov(data) * (nrow(data) - 1) / nrow(data))[["elapsed"]]
t_data <- median_time(function() cfa(model, data = data, std.lv = TRUE))
t_cov <- median_time(function() cfa(model, sample.cov = S, sample.nobs = nrow(data),
                                    std.lv = TRUE, sample.cov.rescale = FALSE))
fit_data <- cfa(model, data = data, std.lv = TRUE)
cat(sprintf("R %s, lavaan %s\n", paste(R.version$major, R.version$minor, sep = "."),
            packageVersion("lavaan")))
cat(sprintf("cov(): %.1f ms\n", 1000 * cov_time))
cat(sprintf("cfa(data): median %.1f ms of 5 (min %.1f), %d iterations\n",
            1000 * t_data[["median"]], 1000 * t_data[["min"]], lavInspect(fit_data, "iterations")))
cat(sprintf("cfa(sample.cov): median %.1f ms of 5 (min %.1f)\n",
            1000 * t_cov[["median"]], 1000 * t_cov[["min"]]))
fm <- fitMeasures(fit_data, c("chisq", "df", "cfi", "tli", "rmsea", "srmr"))
cat(sprintf("chi2 %.3f on %d df, CFI %.4f, TLI %.4f, RMSEA %.4f, SRMR %.4f\n",
            fm[["chisq"]], as.integer(fm[["df"]]), fm[["cfi"]], fm[["tli"]], fm[["rmsea"]], fm[["srmr"]]))
est <- lavInspect(fit_data, "est")
cat(sprintf("first loading %.6f, phi(2,1) %.6f\n", est$lambda[1, 1], est$psi[2, 1]))
