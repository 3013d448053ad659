"""entropy-interventions end to end at the smoke scale (slow: ~1 min after the shared base is cached).

    .venv/bin/python -m pytest tests/replicate/test_interventions.py -q
"""

import json

import pytest

from replicate.result import validate


def shared_cache(tmp_path_factory):
    # one base for every slow experiment test of the session (same directory across test files)
    return tmp_path_factory.getbasetemp() / "replicate-smoke-cache"


@pytest.mark.slow
def test_entropy_interventions_smoke_end_to_end(tmp_path, tmp_path_factory):
    from replicate import registry
    from replicate.runner import execute

    res = execute(registry.load("entropy-interventions"), "smoke", 1, device="cpu", out_dir=tmp_path, cache=shared_cache(tmp_path_factory))
    assert validate(res) == []
    assert [c["id"] for c in res["claims"]] == ["clip-kl-cov-preserve-entropy", "gppo-gradient-preservation", "dapo-clip-higher"]
    assert all(c["verdict"] == "inconclusive" for c in res["claims"])  # one seed cannot decide
    arms = res["series"]["arms"]
    assert {"grpo", "clip02", "clip-cov", "no-clip", "kl-cov", "clip-higher", "gppo"} <= set(arms)
    assert len(arms["kl-cov"]["entropy"]) == len(arms["kl-cov"]["step"]) == 17
    dec = res["decision"]
    assert dec["clip_kl_cov"]["checks"]["kl-cov"]["selected_per_mb"] >= 1
    assert dec["arms"]["gppo"]["pass1"] is not None and res["criterion"]["registered_in"].endswith("entropy_interventions.py")
    for p in res["files"]["plots"]:
        assert (tmp_path / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert {x["arm"] for x in lines} == set(arms) and len(lines) == 7 * 17
