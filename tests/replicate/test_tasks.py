"""Task generators, exact checkers, token labels, tokenizer.

    .venv/bin/python -m pytest tests/replicate/test_tasks.py -q
"""

import numpy as np

from replicate.tasks import EXECUTION, OTHER, PLANNING, Countdown, ModChain, Problem, rewards
from replicate.tasks.countdown import _plans
from replicate.tokenizer import VOCAB, CharTokenizer


def test_vocab_small_and_roundtrip():
    tok = CharTokenizer()
    assert tok.vocab_size <= 64 and len(set(VOCAB)) == len(VOCAB)
    ids = tok.encode("ab+c*|3+5=8;8*7=56$")
    assert tok.decode(ids) == "ab+c*|3+5=8;8*7=56$"
    assert tok.decode_response(ids) == "ab+c*|3+5=8;8*7=56"
    batch = tok.encode_batch(["1,2>3:", "9,9>81:"], 8, left_pad=True)
    assert batch.shape == (2, 8) and batch[0, 0].item() == tok.pad_id


def test_countdown_checker():
    t = Countdown()
    p = Problem(prompt="3,5,7>56:", answer=56)
    assert t.reward(p, "ab+c*|3+5=8;8*7=56$") == 1.0
    assert t.reward(p, "ba+c*|5+3=8;8*7=56") == 1.0  # same plan, letters swapped
    assert t.reward(p, "ab+c*|5+3=8;7*8=56") == 1.0  # commutative operands in either order
    assert t.reward(p, "ab+c*|3+5=9;9*7=63") == 0.0  # arithmetic slip
    assert t.reward(p, "ab+c*|3+5=8;8*7=57") == 0.0
    assert t.reward(p, "ab*c+|3*5=15;15+7=22") == 0.0  # valid arithmetic, wrong target
    assert t.reward(p, "aa+c*|3+3=6;6*7=42") == 0.0  # a number used twice
    assert t.reward(p, "ab-c*|5-3=2;2*7=14") == 0.0  # '-' is not commutative
    assert t.reward(p, "garbage") == 0.0
    assert rewards(t, [p, p], ["ab+c*|3+5=8;8*7=56", "x"]) == [1.0, 0.0]


def test_countdown_hard_problems_need_division(rng):
    t = Countdown(hard_frac=0.5)
    probs = t.sample_problems(rng, 400)
    hard = [p for p in probs if p.hard]
    assert 0.4 < len(hard) / len(probs) < 0.6
    for p in hard[:50]:
        sols = [s for s, _, v in _plans(p.meta["numbers"]) if v == p.answer]
        assert sols and all("/" in s for s in sols)
    for p in [p for p in probs if not p.hard][:50]:
        assert any("/" not in s for s, _, v in _plans(p.meta["numbers"]) if v == p.answer)


def test_countdown_teacher_is_noisy_but_often_right(rng):
    t = Countdown()
    probs = t.sample_problems(rng, 1500)
    acc = np.array([t.reward(p, t.teacher_trace(p, rng)) for p in probs])
    hard = np.array([p.hard for p in probs])
    assert 0.35 < acc[~hard].mean() < 0.65  # noisy teacher: pass@1 << pass@k later
    assert acc[hard].mean() < 0.05  # the base almost never shows division
    traces = [t.teacher_trace(p, rng) for p in probs[:200]]
    assert len({tr.split("|")[0] for tr in traces}) > 10  # diverse strategies
    assert all(len(tr) <= t.max_response_len for tr in traces)


def test_countdown_labels():
    t = Countdown()
    resp = "ab+c*|3+5=8;8*7=56$"
    lab = t.token_labels(resp)
    assert len(lab) == len(resp)
    assert lab[:5] == [PLANNING] * 5 and lab[5] == OTHER
    assert lab[6:11] == [EXECUTION] * 5 and lab[11] == OTHER and lab[-1] == OTHER


def test_modchain(rng):
    m = ModChain()
    p = Problem(prompt="10+5*7-3:", answer=0)
    # 15; 105 mod 97 = 8; 5
    assert m.reward(p, "15;8;5$") == 1.0
    assert m.reward(p, "15;8;6") == 0.0
    probs = m.sample_problems(rng, 400)
    assert all(len(p.prompt) <= m.prompt_len for p in probs)
    hard = [p for p in probs if p.hard]
    assert hard and all(p.prompt.count("+") + p.prompt.count("-") + p.prompt.count("*") == m.hard_len for p in hard)
    # the teacher never shows a full hard chain: its hard traces are always wrong
    assert all(m.reward(p, m.teacher_trace(p, rng)) == 0.0 for p in hard)
    easy_acc = np.mean([m.reward(p, m.teacher_trace(p, rng)) for p in probs if not p.hard])
    assert 0.4 < easy_acc < 0.9
    assert set(m.token_labels("15;8$")) == {EXECUTION, OTHER}
