"""Issue 19 item 5: tasks whose entropy is choice, a habit teacher, and the H0 decomposition."""

import numpy as np

from replicate.decomposition import split_entropy
from replicate.pretrain import base_key
from replicate.scales import CPU
from replicate.tasks import make_task


def _walks(t, prob):
    """Every correct response of a ModWalk problem, by brute force."""
    allowed = prob.meta["allowed"]
    out = []

    def rec(moves):
        if len(moves) == t.n_moves:
            s, txt = t._start(prob.answer), ""
            for m in moves:
                s = t._step(s, m)
                txt += f"{m}{s}"
            if t.reward(prob, txt + "$"):
                out.append(txt + "$")
            return
        for m in allowed:
            rec(moves + [m])

    rec([])
    return out


import pytest


@pytest.mark.parametrize("count_down", [False, True])
def test_continuations_are_exactly_the_prefixes_of_correct_walks(count_down):
    t = make_task("modwalk", n_moves=3, n_allowed=9, min_allowed=6, hard_frac=0.3, count_down=count_down)
    for prob in t.sample_problems(np.random.default_rng(3), 12):
        walks = _walks(t, prob)
        for w in walks[:20]:
            for i in range(len(w)):
                assert w[i] in t.continuations(prob, w[:i])
        # the set is exact: a next character outside it starts no correct walk
        for i in range(2 * t.n_moves + 1):
            prefixes = {w[:i] for w in walks}
            for p in list(prefixes)[:10]:
                assert t.continuations(prob, p) == {w[i] for w in walks if w.startswith(p)}
        assert t.continuations(prob, "x") == set()


def test_hard_problems_need_the_move_the_teacher_never_writes():
    t = make_task("modwalk", n_moves=4, n_allowed=9, min_allowed=6, hard_frac=1.0, count_down=True)
    rng = np.random.default_rng(0)
    probs = t.sample_problems(rng, 200)
    assert len({p.prompt for p in probs}) >= 60  # not just the 5 prompts that allow every even move
    for prob in probs[:20]:
        assert 7 in prob.meta["allowed"] and len(prob.meta["allowed"]) <= 6
        assert "7" in t.continuations(prob, "")  # a correct walk exists and needs a 7 somewhere
        assert all("7" not in t.teacher_trace(prob, rng)[0::2] for _ in range(5))


def test_habit_teacher_prefers_one_correct_plan():
    t = make_task("modwalk", n_moves=4, n_allowed=6, min_allowed=4, hard_frac=0.0, p_habit=0.9, p_wrong_plan=0.0, eps_exec=0.0, count_down=True)
    rng = np.random.default_rng(1)
    for prob in t.sample_problems(rng, 10):
        plans = [t.teacher_trace(prob, rng) for _ in range(60)]
        assert all(t.reward(prob, p) for p in plans)
        top = max(plans.count(p) for p in set(plans)) / len(plans)
        assert top >= 0.8  # the habit: one plan of many correct ones
        assert len(_walks(t, prob)) >= 4


def test_count_down_walk_ends_at_zero_and_last_move_copies_the_state():
    t = make_task("modwalk", n_moves=3, n_allowed=9, min_allowed=9, hard_frac=0.0, count_down=True)
    prob = t.sample_problems(np.random.default_rng(0), 1)[0]
    w = _walks(t, prob)[0]
    assert w[-2] == "0" and w[-3] == w[-4]  # ... m_k = d_{k-1}, d_k = 0
    assert t.continuations(prob, w[:-3]) == {w[-4]}


def test_split_entropy_is_exact_and_separates_error():
    p = np.array([0.3, 0.3, 0.2, 0.2])
    c, n = split_entropy(p, [0, 1])
    h = float(-(p * np.log(p)).sum())
    assert abs(c + n - h) < 1e-12
    assert abs(c - 0.6 * np.log(2)) < 1e-12
    c, n = split_entropy(p, [])
    assert c == 0.0 and abs(n - h) < 1e-12


def test_rl_only_settings_share_the_base():
    k = base_key("modwalk", CPU.task_kwargs, CPU.model, CPU.pretrain, scale="cpu", seed=0)
    assert k == base_key("modwalk", {**CPU.task_kwargs, "train_hard": True}, CPU.model, CPU.pretrain, scale="cpu", seed=0)
    assert k != base_key("modwalk", {**CPU.task_kwargs, "p_habit": 0.5}, CPU.model, CPU.pretrain, scale="cpu", seed=0)


def test_modwalk_gram_is_the_free_moves_and_the_copied_last_move_is_execution():
    from replicate.tasks.base import EXECUTION, OTHER, PLANNING
    from replicate.tasks.modwalk import plan_of

    assert plan_of("1928374655$") == "1234"  # moves 1,2,3,4,5: the last one is determined
    t = make_task("modwalk", n_moves=3, count_down=True)
    assert t.token_labels("112131$") == [PLANNING, EXECUTION, PLANNING, EXECUTION, EXECUTION, EXECUTION, OTHER]
    assert make_task("modwalk", n_moves=3).token_labels("112131$")[4] == PLANNING


@pytest.mark.parametrize("count_down", [False, True])
def test_rare_teacher_writes_correct_seven_walks_only_on_its_targets(count_down):
    """latent-capability's sharpening band (2026-12-08): with p_rare the teacher's 7-walks on hard prompts with a
    target in rare_targets are correct; other targets keep always-wrong walks; p_rare = 0 draws exactly as before."""
    kw = dict(n_moves=6, n_allowed=9, min_allowed=6, hard_frac=1.0, p_wrong_plan=0.3, eps_exec=0.0, count_down=count_down)
    rare = make_task("modwalk", **kw, p_rare=0.5, rare_targets=(1, 3))
    probs = rare.sample_problems(np.random.default_rng(1), 300)
    rng = np.random.default_rng(2)
    on = [rare.reward(p, rare.teacher_trace(p, rng)) for p in probs if p.answer in (1, 3) for _ in range(4)]
    off = [rare.reward(p, rare.teacher_trace(p, rng)) for p in probs if p.answer not in (1, 3)]
    assert 0.4 < np.mean(on) < 0.6 and sum(off) == 0  # half the traces on its targets are correct 7-walks
    plain, zero = make_task("modwalk", **kw), make_task("modwalk", **kw, p_rare=0.0)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert [plain.teacher_trace(p, a) for p in probs[:50]] == [zero.teacher_trace(p, b) for p in probs[:50]]
    k = base_key("modwalk", CPU.task_kwargs, CPU.model, CPU.pretrain, scale="cpu", seed=0)
    assert k != base_key("modwalk", {**CPU.task_kwargs, "p_rare": 0.03}, CPU.model, CPU.pretrain, scale="cpu", seed=0)
