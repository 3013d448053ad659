"""The law fitter recovers known (a, b); AIC, early fit and runs test behave.

    .venv/bin/python -m pytest tests/replicate/test_fits.py -q
"""

import numpy as np
import pytest

from replicate import fits


def _synthetic(a=0.35, b=1.2, n=60, noise=0.01, seed=0):
    rng = np.random.default_rng(seed)
    H = np.linspace(1.2, 0.05, n)
    return H, -a * np.exp(H) + b + rng.normal(0, noise, n)


def test_recovers_known_a_b_with_cis():
    H, R = _synthetic()
    f = fits.fit_entropy_law(H, R, n_boot=400)
    law = f["law"]
    assert law["a"]["value"] == pytest.approx(0.35, abs=0.02)
    assert law["b"]["value"] == pytest.approx(1.2, abs=0.03)
    assert law["a"]["ci95"][0] <= 0.35 <= law["a"]["ci95"][1]
    assert law["b"]["ci95"][0] <= 1.2 <= law["b"]["ci95"][1]
    assert law["r2"]["value"] > 0.98
    assert law["ceiling"]["value"] == pytest.approx(1.2 - 0.35, abs=0.02)
    # the exponential data are curved enough that both straight-line alternatives lose on AIC
    assert f["delta_aic"] < -2


def test_linear_data_prefer_linear_form():
    H = np.linspace(1.5, 0.05, 60)
    R = 0.9 - 0.5 * H + np.random.default_rng(1).normal(0, 0.005, 60)
    f = fits.fit_entropy_law(H, R, n_boot=50)
    assert f["linear_H"]["aic"] < f["law"]["aic"] - 2
    assert f["delta_aic"] > 2


def test_early_fit_predicts_rest_of_exact_law():
    H, R = _synthetic(noise=0.0)
    e = fits.early_fit(H, R, frac=0.15)
    assert e["n_fit"] == 9 and e["n_pred"] == 51
    assert e["rmse"] < 1e-9


def test_runs_test():
    assert fits.runs_test([1, -1] * 20)["p"] > 0.05 or fits.runs_test([1, -1] * 20)["z"] > 0  # many runs: no drift
    drift = fits.runs_test([1] * 20 + [-1] * 20)
    assert drift["runs"] == 2 and drift["p"] < 0.001
    assert fits.runs_test([1, 1, 1])["p"] is None


def test_ols_closed_form():
    f = fits.ols([0, 1, 2, 3], [1, 3, 5, 7])
    assert f["slope"] == pytest.approx(2) and f["intercept"] == pytest.approx(1) and f["r2"] == pytest.approx(1)
