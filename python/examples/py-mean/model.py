#!/usr/bin/env python3
"""py-mean: an IKD scoring model written in Python, run as a process plugin.

Each domain's score is the unweighted mean of its answered items, each put on
0-1 by its score range, times 100; the index is the mean of the scored domains
weighted by the domain weights. Unlike the weighted index it ignores item and
indicator weights — a simple second opinion for researchers to compare.

A domain is scored when at least max(1, min_answered) of its items are answered
("don't know" counts as answered, with the score the domain plugin gave it);
the index needs at least max(1, min_domains) scored domains. Levels come from
the instrument's bands. The model gives no standard errors.
"""

import os
import sys

try:
    import ikd_plugin
except ImportError:  # running from a checkout: the helper lives in ../../
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    import ikd_plugin


class PyMean(ikd_plugin.ScoringModel):
    name = "py-mean"
    version = "0.1.0"
    description = "Unweighted mean of item scores per domain (Python, process plugin)"

    def __init__(self, config):
        self.layout = ikd_plugin.Layout(config)
        if config.settings_json not in ("", "{}"):
            raise ikd_plugin.Refusal(
                "py-mean has no settings", [("", "settings", config.settings_json)]
            )

    def score(self, batch):
        layout = self.layout
        out = ikd_plugin.ScoreOutput(batch.respondents, len(layout.domains))
        for r in range(batch.respondents):
            weighted, weights, scored = 0.0, 0.0, 0
            for d, domain in enumerate(layout.domains):
                total, answered = 0.0, 0
                for i in layout.domain_items[d]:
                    score, status = batch.cell(r, i)
                    if status in (ikd_plugin.ANSWERED, ikd_plugin.DONT_KNOW):
                        item = layout.items[i]
                        total += (score - item.score_min) / (item.score_max - item.score_min)
                        answered += 1
                k = r * len(layout.domains) + d
                out.domain_answered[k] = answered
                if answered >= max(1, domain.min_answered):
                    value = 100.0 * total / answered
                    out.domain_scores[k] = value
                    out.domain_levels[k] = ikd_plugin.band_of(layout.bands, value)
                    weighted += domain.weight * value
                    weights += domain.weight
                    scored += 1
            if scored >= layout.min_domains and weights > 0:
                out.index[r] = weighted / weights
                out.index_levels[r] = ikd_plugin.band_of(layout.bands, out.index[r])
        return out


if __name__ == "__main__":
    ikd_plugin.run(PyMean)
