"""pass@k estimator and curve helpers against brute-force enumeration; the never-solved split.

    .venv/bin/python -m pytest tests/replicate/test_latent_passk.py -q
"""

import itertools

import numpy as np
import pytest

from replicate.experiments.latent_capability import expansion
from replicate.metrics import pass_at_k
from replicate.passk import curve, paired_diff_ci, per_problem, powers_of_two


def brute(n, c, k):
    # fraction of all k-subsets of n samples (c correct) that contain at least one correct sample
    samples = [1] * c + [0] * (n - c)
    subs = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subs) / len(subs)


@pytest.mark.parametrize("n", [1, 4, 7, 10])
def test_pass_at_k_matches_brute_force(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute(n, c, k), abs=1e-12)


def test_curve_and_helpers():
    assert powers_of_two(256) == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert powers_of_two(12) == [1, 2, 4, 8, 12]
    counts = np.array([0, 3, 10])
    assert curve(counts, 10, [1, 10]).tolist() == pytest.approx([(0 + 0.3 + 1) / 3, 2 / 3])
    assert per_problem(counts, 10, 2).tolist() == pytest.approx([brute(10, c, 2) for c in counts])
    d = paired_diff_ci(np.array([5, 5, 5, 5]), np.array([0, 0, 0, 0]), 10, 1, n_boot=200)
    assert d["diff"] == pytest.approx(0.5) and d["ci95"][0] == pytest.approx(0.5)


def test_expansion_against_base_null():
    base_a = np.array([0] * 20 + [3] * 5)
    base_b = np.array([0] * 19 + [1] + [3] * 5)  # the base itself solves 1/20 never-solved ones on a redraw
    rl = np.array([2] * 10 + [0] * 10 + [3] * 5)
    e = expansion(base_a, base_b, rl, 5)
    assert e["n_never_solved"] == 20 and e["base_null_rate"] == pytest.approx(0.05) and e["rl_rate"] == pytest.approx(0.5)
    assert e["diff"] > 3 * e["se"]
    assert not expansion(base_a[-6:], base_b[-6:], rl[-6:], 5)["evaluable"]


@pytest.mark.slow
def test_latent_capability_smoke_end_to_end(tmp_path, tmp_path_factory):
    from replicate import registry
    from replicate.result import validate
    from replicate.runner import execute

    res = execute(registry.load("latent-capability"), "smoke", 1, device="cpu", out_dir=tmp_path, cache=tmp_path_factory.getbasetemp() / "replicate-smoke-cache")
    assert validate(res) == []
    assert [c["id"] for c in res["claims"]] == ["rl-narrows-pass-at-k", "prorl-expands-boundary"]
    pk = res["series"]["pass_at_k"]
    assert pk["k"] == [1, 2, 4, 8, 16, 32, 64] and len(pk["base"]) == len(pk["rl"]) == 7
    assert all(a <= b + 1e-9 for a, b in zip(pk["base"], pk["base"][1:]))  # pass@k is non-decreasing in k
    assert len(res["series"]["pass_at_k_hard"]["rl"]) == 7
    assert (tmp_path / "pass_at_k.png").read_bytes()[:4] == b"\x89PNG"
