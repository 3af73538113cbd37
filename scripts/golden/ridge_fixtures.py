"""Golden values for cellcast's RidgeGcv from scikit-learn's RidgeCV itself (dev-only).

RidgeCV(alphas=cellcast's standard grid, fit_intercept=True, store_cv_results=True) on seeded
problems, one shared alpha over the targets: gcv_mode="eigen" with n_samples < n_features (Morgan
counts, the L1000 case) and gcv_mode="svd" with n_samples > n_features (standardised descriptors). Writes fixtures/golden/ridge/<case>/{x.csv,y.csv,expected.json}.
Run with the venv of requirements-score.txt (scikit-learn 1.5.2).
"""

import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import RidgeCV

OUT = Path(__file__).resolve().parents[2] / "fixtures/golden/ridge"
ALPHAS = [10 ** (-1.0 + 0.5 * k) for k in range(15)]


def case(name, n, p, t, density, seed, mode="eigen"):
    rng = np.random.default_rng(seed)
    if mode == "eigen":
        # Sparse non-negative "log count" features, like log1p(Morgan counts).
        x = np.log1p(rng.poisson(0.6, size=(n, p)) * (rng.random((n, p)) < density))
    else:
        # Correlated dense features on a standard scale, like standardised descriptors.
        x = rng.normal(size=(n, p)) @ rng.normal(size=(p, p)) * 0.5
        x = (x - x.mean(axis=0)) / x.std(axis=0)
    beta = rng.normal(size=(p, t)) * (rng.random((p, t)) < 0.2)
    y = x @ beta + rng.normal(scale=1.0, size=(n, t)) + rng.normal(size=t)
    model = RidgeCV(alphas=ALPHAS, fit_intercept=True, gcv_mode=mode, store_cv_results=True).fit(x, y)
    loo = model.cv_results_.reshape(n, t, len(ALPHAS)).mean(axis=(0, 1))
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    np.savetxt(d / "x.csv", x, delimiter=",", fmt="%.17g")
    np.savetxt(d / "y.csv", y, delimiter=",", fmt="%.17g")
    (d / "expected.json").write_text(json.dumps({
        "alphas": ALPHAS,
        "alpha": float(model.alpha_),
        "loo_mse": loo.tolist(),
        "coef": model.coef_.T.tolist(),          # p x t
        "intercept": np.atleast_1d(model.intercept_).tolist(),
        "reference": f"scikit-learn {sklearn.__version__} RidgeCV(gcv_mode='{mode}', fit_intercept=True)",
    }, indent=1) + "\n")
    print(name, model.alpha_)


case("wide_sparse", n=40, p=120, t=3, density=0.3, seed=1)
case("wide_dense", n=25, p=60, t=2, density=0.9, seed=2)
case("tall_dense", n=90, p=12, t=3, density=1.0, seed=3, mode="svd")
