"""Reference values for ikd-cat's item selection, from implementations
independent of ours. Writes reference.json beside this script.

* Dichotomous items (2PL and 3PL): Fisher information per item and the item
  chosen by maximum information, from catsim (PyPI `catsim`, 4PL logistic
  with a, b, c, d = 1): `catsim.irt.inf_hpc` and `MaxInfoSelector`.
* Polytomous items (GRM, GPCM): catsim has none, so their Fisher information
  is computed here with numpy from the textbook closed forms (Samejima's
  sum of P_k'^2 / P_k for the GRM, a^2 Var(k) for the GPCM).
* Kullback-Leibler interval information (Chang & Ying, 1996): catsim has no
  KL selector, so the integral of sum_k P_k(t) log(P_k(t) / P_k(x)) over
  x in [t - h, t + h] is computed here by scipy's adaptive quadrature (QUADPACK)
  with tight tolerances, and the chosen item is its argmax.

Run (any Python >= 3.11):
    python3 -m venv /tmp/cat-ref && /tmp/cat-ref/bin/pip install catsim==0.21.0
    /tmp/cat-ref/bin/python make_reference.py
"""

import json
import math
from importlib.metadata import version
from pathlib import Path

import numpy as np
from catsim import irt
from catsim.item_bank import ItemBank
from catsim.selection import MaxInfoSelector
from scipy.integrate import quad

# a, b, c: ten 2PL items (c = 0) and six 3PL items. Chosen so that no two
# items tie in information at the thetas below.
DICHOTOMOUS = [
    (1.20, -2.10, 0.00),
    (0.65, -1.40, 0.00),
    (1.85, -0.90, 0.00),
    (1.05, -0.35, 0.00),
    (2.40, 0.05, 0.00),
    (0.90, 0.40, 0.00),
    (1.55, 0.85, 0.00),
    (1.30, 1.45, 0.00),
    (2.10, 2.20, 0.00),
    (0.75, 2.90, 0.00),
    (1.70, -1.75, 0.18),
    (1.40, -0.60, 0.25),
    (2.25, 0.30, 0.12),
    (1.10, 1.05, 0.20),
    (1.95, 1.70, 0.15),
    (1.60, 0.65, 0.30),
]

# Slope-intercept parameters as ikd-irt reads them from PARAMS.csv.
POLYTOMOUS = [
    ("grm", 1.62, [2.96, 1.36, -0.23, -1.82]),
    ("grm", 2.74, [-0.52]),
    ("grm", 0.95, [1.80, -0.40, -2.60]),
    ("grm", 2.20, [4.10, 2.05, 0.10, -1.90, -3.70]),
    ("gpcm", 1.30, [0.80, 0.50, -0.60]),
    ("gpcm", 0.70, [1.10, 0.20]),
    ("gpcm", 2.05, [2.40, 3.10, 1.20, -1.50]),
]

THETAS = [-3.1, -1.7, -0.8, -0.25, 0.0, 0.35, 0.9, 1.6, 2.45, 3.3]

# (theta, administered) cases for the selectors.
SELECTION = [
    (-2.0, []),
    (-1.7, [10]),
    (-0.8, [2, 11]),
    (-0.25, []),
    (0.0, [4]),
    (0.0, [4, 12]),
    (0.35, [4, 12, 5]),
    (0.9, [15, 6]),
    (1.6, [13]),
    (2.45, []),
    (2.45, [8, 14]),
    (3.3, [8, 9, 14]),
]
KL_HALF_WIDTHS = [3.0, 1.5, 0.6]


def dichotomous_probs(item, x):
    a, b, c = item
    p1 = c + (1.0 - c) / (1.0 + math.exp(-a * (x - b)))
    return [1.0 - p1, p1]


def grm_probs(a, d, x):
    star = [1.0] + [1.0 / (1.0 + math.exp(-(a * x + dk))) for dk in d] + [0.0]
    return [star[k] - star[k + 1] for k in range(len(d) + 1)]


def gpcm_probs(a, d, x):
    eta = [0.0] + [(k + 1) * a * x + dk for k, dk in enumerate(d)]
    top = max(eta)
    w = [math.exp(e - top) for e in eta]
    total = sum(w)
    return [v / total for v in w]


def poly_probs(item, x):
    model, a, d = item
    return grm_probs(a, d, x) if model == "grm" else gpcm_probs(a, d, x)


def grm_information(a, d, x):
    """Samejima: sum_k P_k'^2 / P_k, P_k' = a (P*_k Q*_k - P*_{k+1} Q*_{k+1})."""
    star = np.array([1.0] + [1.0 / (1.0 + np.exp(-(a * x + dk))) for dk in d] + [0.0])
    slope = a * star * (1.0 - star)
    p = star[:-1] - star[1:]
    dp = slope[:-1] - slope[1:]
    return float(np.sum(dp * dp / p))


def gpcm_information(a, d, x):
    """a^2 times the variance of the category score k."""
    p = np.array(gpcm_probs(a, d, x))
    k = np.arange(len(p), dtype=float)
    mean = float(np.sum(k * p))
    return a * a * float(np.sum((k - mean) ** 2 * p))


def kl_interval(probs, theta, half_width):
    at = probs(theta)

    def integrand(x):
        other = probs(x)
        return sum(p * math.log(p / q) for p, q in zip(at, other) if p > 0.0)

    value, error = quad(
        integrand, theta - half_width, theta + half_width, epsabs=1e-15, epsrel=1e-13, limit=200
    )
    assert error < 1e-11, (theta, half_width, error)
    return value


def main():
    bank_array = np.array(DICHOTOMOUS)
    bank = ItemBank(bank_array)
    info = [[float(v) for v in irt.inf_hpc(theta, bank.items)] for theta in THETAS]
    # The scalar function agrees with the vectorised one.
    for t, theta in enumerate(THETAS):
        for i, (a, b, c) in enumerate(DICHOTOMOUS):
            assert abs(irt.inf(theta, a, b, c, 1.0) - info[t][i]) <= 1e-12 * max(1.0, info[t][i])

    selector = MaxInfoSelector()
    max_info = []
    for theta, administered in SELECTION:
        ranked = sorted(
            (float(v) for i, v in enumerate(irt.inf_hpc(theta, bank.items)) if i not in administered),
            reverse=True,
        )
        assert ranked[0] - ranked[1] > 1e-6, "a near tie would make the check fragile"
        chosen = selector.select(item_bank=bank, administered_items=list(administered), est_theta=theta)
        max_info.append({"theta": theta, "administered": administered, "chosen": int(chosen)})

    poly_info = []
    for theta in THETAS:
        row = []
        for model, a, d in POLYTOMOUS:
            row.append(grm_information(a, d, theta) if model == "grm" else gpcm_information(a, d, theta))
        poly_info.append(row)

    kl_values = []
    for theta in THETAS[1:-1]:
        for h in KL_HALF_WIDTHS:
            for i, item in enumerate(DICHOTOMOUS):
                value = kl_interval(lambda x, item=item: dichotomous_probs(item, x), theta, h)
                kl_values.append({"set": "dichotomous", "item": i, "theta": theta, "half_width": h, "value": value})
            for i, item in enumerate(POLYTOMOUS):
                value = kl_interval(lambda x, item=item: poly_probs(item, x), theta, h)
                kl_values.append({"set": "polytomous", "item": i, "theta": theta, "half_width": h, "value": value})

    kl_selection = []
    for theta, administered in SELECTION:
        for h in KL_HALF_WIDTHS:
            values = [
                (kl_interval(lambda x, item=item: dichotomous_probs(item, x), theta, h), i)
                for i, item in enumerate(DICHOTOMOUS)
                if i not in administered
            ]
            values.sort(key=lambda v: -v[0])
            assert values[0][0] - values[1][0] > 1e-6, "a near tie would make the check fragile"
            kl_selection.append(
                {"theta": theta, "half_width": h, "administered": administered, "chosen": values[0][1]}
            )

    reference = {
        "generator": "crates/ikd-cat/tests/reference/make_reference.py",
        "versions": {"catsim": version("catsim"), "numpy": version("numpy"), "scipy": version("scipy")},
        "dichotomous": {
            "note": "catsim 4PL parameters a, b, c with d = 1; information and choices by catsim",
            "items": [{"a": a, "b": b, "c": c} for a, b, c in DICHOTOMOUS],
            "thetas": THETAS,
            "information": info,
            "max_info": max_info,
        },
        "polytomous": {
            "note": "slope-intercept a, d; information by this script's numpy closed forms",
            "items": [{"model": m, "a": a, "d": d} for m, a, d in POLYTOMOUS],
            "thetas": THETAS,
            "information": poly_info,
        },
        "kl": {
            "note": "integral of KL(theta || x) over theta +- half_width by scipy quad (this script)",
            "values": kl_values,
            "selection": kl_selection,
        },
    }
    out = Path(__file__).with_name("reference.json")
    out.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {out}: {len(kl_values)} KL values, {len(max_info)} max-info choices")


if __name__ == "__main__":
    main()
