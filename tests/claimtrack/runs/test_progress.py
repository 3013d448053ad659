"""One progress bar over a whole job (claimtrack.runs.progress): pretraining as a phase in words,
a monotone fraction, an ETA from measured times that does not swing once 10% is done.

    python -m pytest tests/claimtrack/runs/test_progress.py -q
"""

from __future__ import annotations

import datetime as dt
import json

from claimtrack.runs import progress
from claimtrack.runs.jobs import Job

T0 = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone.utc)


def _job(**kw) -> Job:
    base = dict(id="20261207-120000-abcdef", experiment="reward-variance", scale="smoke", seeds=3,
                device="cpu", state="running", created_at=T0, started_at=T0)
    return Job(**{**base, **kw})


def _timeline(parallel: bool, arms_total: bool, cached: bool = False):
    """(seconds since start, log so far, last PROGRESS payload) every 2 s of a 3-seed job whose
    3 bases take 60 s each to pretrain, then 3 seeds x 2 arms x 10 RL steps at 1 s a step."""
    events: list[tuple[float, str]] = []
    if cached:  # every base from the cache: the log has no pretraining line at all
        parallel = True
    elif parallel:
        events.append((0.5, "pretraining 3 base(s) on 2 processes"))
        for b in range(3):  # two at once, then the third
            start = 0 if b < 2 else 60
            events += [(start + 60 * i / 6 + 1, f"pretrain step {i * 40}/200 loss 1.0") for i in range(6)]
        t = 120.0
    else:
        t = 0.0
    if cached:
        events, t = [], 0.0
    done = 0
    for seed in range(3):
        if not parallel:
            events += [(t + 60 * i / 6 + 1, f"pretrain step {i * 40}/200 loss 1.0") for i in range(6)]
            t += 60
            events.append((t, f"seed {seed}: base pretrained in 60.0s; base stats {{}}"))
        for arm in ("none", "filter"):
            for step in range(10):
                t += 1
                done += 1
                p = {"seed": seed, "arm": arm, "step": step, "of": 10}
                if arms_total:
                    p.update(done=done, total=60)
                events.append((t, "PROGRESS " + json.dumps(p)))
    events.sort(key=lambda e: e[0])
    end = events[-1][0]
    now = 0.0
    while now <= end:
        lines = [text for at, text in events if at <= now]
        last = next((json.loads(x[9:]) for x in reversed(lines) if x.startswith("PROGRESS ")), {})
        yield now, "== attempt 1\n" + "\n".join(lines), last
        now += 2.0


def _walk(parallel: bool, arms_total: bool, cached: bool = False):
    progress._SEEN.clear()
    out = []
    for now, log, last in _timeline(parallel, arms_total, cached):
        job = _job(progress=last)
        out.append((now, progress.job_progress(job, log, arms=2, now=T0.timestamp() + now)))
    return out


def test_pretraining_is_a_phase_in_words_and_the_bar_never_goes_back():
    for parallel in (True, False):
        for arms_total in (True, False):  # lines with done/total, and older ones without
            walk = _walk(parallel, arms_total)
            fracs = [p.fraction for _, p in walk]
            assert fracs == sorted(fracs), (parallel, arms_total)
            assert fracs[-1] > 0.95
            texts = [p.text for _, p in walk]
            assert any(t.startswith("pretraining base 2/3") for t in texts)
            assert not any("no step yet" in t for t in texts)
            assert any("arm filter" in t for t in texts)


def test_eta_does_not_swing_after_the_first_tenth():
    for parallel in (True, False):
        walk = _walk(parallel, True)
        total = walk[-1][0]
        finish = [now + p.eta for now, p in walk if p.fraction >= 0.1 and p.eta is not None]
        assert finish, parallel
        # the predicted finish stays within 2x of itself and of the true end
        assert max(finish) / min(finish) <= 2.0, (parallel, min(finish), max(finish))
        assert 0.5 * total <= finish[-1] <= 2 * total


def test_cached_bases_count_as_done_and_the_bar_reaches_the_end():
    walk = _walk(False, False, cached=True)  # reward-variance smoke: arms, no total, bases cached
    fracs = [p.fraction for _, p in walk]
    assert fracs == sorted(fracs) and fracs[-1] > 0.95 and fracs[1] >= 0.5
    assert not any(p.phase == "pretraining" for _, p in walk)


def test_queued_and_finished_jobs():
    assert progress.job_progress(_job(state="queued", started_at=None), "").text == "waiting for a worker"
    done = progress.job_progress(_job(state="completed", finished_at=T0), "")
    assert done.fraction == 1.0 and done.eta is None
