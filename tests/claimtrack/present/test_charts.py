"""claimtrack.present.charts: plots from result files, tolerant of missing series.

    python -m pytest tests/claimtrack/test_charts.py -q
"""

from __future__ import annotations

import json

from claimtrack.present import charts
from tests.app.conftest import fake_result


def test_result_gives_law_fit_and_training_curves(tmp_path):
    result = json.loads(fake_result(tmp_path).read_text())
    titles = [t for t, _ in charts.figures(result)]
    assert titles == ["R vs H with the fitted law", "Training curves"]
    fig = charts.entropy_law(result)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "seed 0" in labels and "95% CI of the fit" in labels
    assert any(lab.startswith("fit R = -0.3") for lab in labels)


def test_bootstrap_band_when_no_ci(tmp_path):
    result = json.loads(fake_result(tmp_path).read_text())
    result["fits"] = {}
    labels = [t.get_text() for t in charts.entropy_law(result).axes[0].get_legend().get_texts()]
    assert "95% bootstrap band" in labels


def test_missing_or_odd_series_give_no_plot():
    assert charts.figures({}) == []
    assert charts.figures({"series": {"step": [1], "entropy": [None]}, "fits": {"law": None}}) == []


def test_pass_at_k_calibration_and_token_classes():
    result = {
        "series": {"step": [0, 1, 2], "entropy_forking": [1.0, 0.9, 0.8],
                   "entropy_other": [0.5, 0.4, 0.3],
                   "calibration": {"confidence": [0.1, 0.5, 0.9], "accuracy": [0.2, 0.5, 0.7]}},
        "fits": {"pass_at_k": {"base": {"1": 0.2, "8": 0.5, "64": 0.8},
                               "rl": {"1": 0.4, "8": 0.55, "64": 0.7}}},
    }
    titles = [t for t, _ in charts.figures(result)]
    assert titles == ["pass@k", "Entropy by token class", "Calibration"]
    assert set(charts.curves(result["fits"]["pass_at_k"])) == {"base", "rl"}
