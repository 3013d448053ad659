"""The calibration experiment's task: ModChain with label noise, a stated confidence digit and an optional
systematic teacher error (T2-noise of rl-methods §0.2, §e; RLCR, arXiv:2507.16806).

Grammar::

    prompt    ?3*2+4-1:        ('?' marks an item whose label may be wrong; left-padded)
    response  1;0;4|7$         (every intermediate value mod m, then '|' and the stated confidence digit)

The digit d states a success probability q = (d + 0.5) / 10: the teacher's sampling success from the prompt
(``conf_mode="prompt"``) or the chance that its greedy answer is scored correct (``"greedy"``, the cpu task). Used by ``replicate/experiments/calibration.py``:

    >>> t = NoisyConfModChain(modulus=5, min_len=3, max_len=3, sys_op="*")
    >>> round(t.ceiling(), 3)
    0.9
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from replicate.rewards import binary_reward
from replicate.tasks import EXECUTION, OTHER, ModChain, Problem

OP_FN = {"+": lambda v, x: v + x, "-": lambda v, x: v - x, "*": lambda v, x: v * x}


@dataclass
class NoisyConfModChain:
    """ModChain with label noise on ``?`` items and a confidence digit after the answer (T2-noise).

    Optional systematic teacher error (issue 19 item 5; ``sys_op`` set): on every step ``<sys_op><sys_operand>``
    the teacher writes (true value + ``sys_shift``) mod m with probability ``sys_err`` and the true value
    otherwise (no random slip there). The pattern is visible in the prompt, so a base trained on these traces
    copies the wrong value greedily while the right one keeps ~(1 - sys_err) of its mass: RLVR has something
    to fix. The reference label is still the true chain (the teacher's error is the model's to unlearn).
    """

    modulus: int = 10
    min_len: int = 2
    max_len: int = 5
    eps_exec: float = 0.1
    noise_frac: float = 0.2  # "20% of items with label noise at known rates" (rl-methods §e, E-e): marked '?'
    noise_rate: float = 0.5
    # a second noise class, marked '.' (issue 19): with fixed-length chains a policy at the ceiling is right with
    # probability 1 or 1 - noise_rate, so one noise class lets a calibrated policy state only 2 digits, and E-e's
    # "not collapsed: >= 3 digits with >= 5% mass" would fail by design; a second known rate gives a third level
    noise2_frac: float = 0.0
    noise2_rate: float = 0.25
    conf_jitter: float = 1.0  # sd of the teacher's stated digit around its stated success probability
    # does the stated digit include the known label-noise rate? False (cpu, issue 19): the teacher states the
    # reliability of its own arithmetic and does not model the grader's noise. With True its digits already rank the
    # noise classes as well as exact knowledge of the rates does, so once RLVR reaches the ceiling RLCR has no AUROC
    # left to gain (pilot seed 100: RLVR 0.937 = the ceiling policy's 0.937); RLCR's Brier term has to learn them
    conf_knows_noise: bool = True
    # what the digit states (issue 19 review of c505046): "prompt" = stated_prob, the teacher's sampling success from
    # the prompt alone (the 2026-11-29 and 5680211 tasks); "greedy" = greedy_prob: the chance that the answer it wrote,
    # less its random slips (a greedy answer has none), is scored correct, given the noise rates it knows
    # (``conf_known``: the markers whose rate it knows; the other marked items look clean to it)
    conf_mode: str = "prompt"
    conf_known: str = "?."
    sys_op: str = ""  # "" = no systematic error (the smoke/gpu task and the 2026-11-29 cpu task)
    sys_operand: int = 2
    sys_err: float = 0.8
    sys_shift: int = 1
    # "shift": the '<sys_op><sys_operand>' habit above; "unreduced" (cpu, 2026-12-07 re-registration): on every
    # '<sys_op>' step whose result is a single digit >= m the teacher forgets the reduction and writes it as is
    # ('4*2' -> 8, not 3) with probability sys_err; the wrong value is visible in the trace itself, so a small
    # model's digit can follow what it wrote (pilots f, g: with the 'shift' habit its digit read the prompt only)
    sys_mode: str = "shift"
    name: str = "modchain-conf"
    mc: ModChain = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.mc = ModChain(modulus=self.modulus, min_len=self.min_len, max_len=self.max_len, hard_len=self.max_len, hard_frac=0.0, eps_exec=self.eps_exec)
        self.prompt_len = self.mc.prompt_len + 1  # '?' marker
        self.max_response_len = self.mc.max_response_len + 2  # '|d'
        if self.conf_mode not in ("prompt", "greedy"):
            raise ValueError("conf_mode must be 'prompt' or 'greedy'")
        if self.sys_mode not in ("shift", "unreduced"):
            raise ValueError("sys_mode must be 'shift' or 'unreduced'")
        if self.sys_op and (self.sys_op not in OP_FN or self.sys_shift % self.modulus == 0):
            raise ValueError("sys_op must be one of + - * and sys_shift must change the value")

    def is_pattern(self, op: str, x: int, v: int = 0) -> bool:
        """Does the habit apply to this step (``v``: the value before it, read by the "unreduced" habit only)?"""
        if self.sys_mode == "unreduced":
            return bool(self.sys_op) and op == self.sys_op and self.modulus <= OP_FN[op](v % self.modulus, x) <= 9
        return bool(self.sys_op) and op == self.sys_op and x == self.sys_operand

    def _habit(self, op: str, x: int, v: int) -> int:
        """The value the habit writes on a step it applies to."""
        raw = OP_FN[op](v % self.modulus, x)
        return raw if self.sys_mode == "unreduced" else (raw + self.sys_shift) % self.modulus

    def _pattern_count(self, prompt: str) -> int:
        v, steps = self.mc._steps(prompt.lstrip("?."))
        n = 0
        for op, x in steps:
            n += self.is_pattern(op, x, v)
            v = OP_FN[op](v, x) % self.modulus
        return n

    def sample_problems(self, rng, n: int) -> list[Problem]:
        out = []
        for p in self.mc.sample_problems(rng, n):
            vals = self.mc._values(p.prompt)
            u = rng.random()  # one draw picks the class (the 2026-11-29 draws when noise2_frac = 0)
            mark, rate = ("?", self.noise_rate) if u < self.noise_frac else (".", self.noise2_rate) if u < self.noise_frac + self.noise2_frac else ("", 0.0)
            noisy = bool(mark)
            label = vals[-1]
            if noisy and rng.random() < rate:
                label = (label + int(rng.integers(1, self.modulus))) % self.modulus
            ref = ";".join(str(v) for v in vals[:-1] + [label])
            n_pat = self._pattern_count(p.prompt)
            meta = {"ref": ref, "noisy": noisy, "rate": rate, "k": len(vals), "label_true": label == vals[-1], "pattern_steps": n_pat}
            out.append(Problem(prompt=mark + p.prompt, answer=label, meta=meta))
        return out

    def ceiling(self) -> float:
        """Best achievable expected accuracy under the label noise: answer the true chain on every item.

        On a noisy item of rate r the label is the true value with probability 1 - r and each other value with
        r / (m - 1); the best answer is the likelier of the two. Clean items: the truth scores 1.
        """
        best = [max(1 - r, r / (self.modulus - 1)) for r in (self.noise_rate, self.noise2_rate)]
        return (1 - self.noise_frac - self.noise2_frac) + self.noise_frac * best[0] + self.noise2_frac * best[1]

    def stated_prob(self, problem: Problem) -> float:
        """What the teacher believes its chance of being scored correct is (the digit it states, before jitter).

        On pattern items the teacher states its usual (1 - eps_exec)^k: it is confident but wrong. A teacher
        does not know its systematic error (if it did, it would not make it), and RLCR (arXiv:2507.16806) is
        about overconfident answers: the base inherits high stated confidence on items it mostly gets wrong,
        which the Brier term penalises and binary reward does not see. A teacher stating its true (low)
        success there would hand binary-reward-hurts-calibration a rise by construction: an RLVR fix of the
        pattern leaves the low digit behind (underconfidence). Off the pattern the greedy base is right more
        often than the sampling teacher, so its digits start underconfident there (measured in the pilots).
        """
        p = (1 - self.eps_exec) ** problem.meta["k"]
        return p * (1 - problem.meta["rate"]) if self.conf_knows_noise else p

    def success_prob(self, problem: Problem) -> float:
        """The teacher's actual chance of being scored correct (what a calibrated q states; = stated_prob off-pattern)."""
        n_pat = problem.meta.get("pattern_steps", 0)
        p = (1 - self.eps_exec) ** (problem.meta["k"] - n_pat) * (1 - self.sys_err) ** n_pat
        return p * (1 - problem.meta["rate"])

    def label_odds(self, problem: Problem) -> tuple[float, float]:
        """(P(label = true value), P(label = one given wrong value)) as the teacher sees the item.

        A marker in ``conf_known`` tells it the item's rate r; every other item (clean, or marked with a rate it does
        not know) belongs to one pool whose label is wrong with the pool's mean rate, computed from the registered
        fractions (cpu: '.' unknown -> (0.1 x 0.25) / 0.9 = 0.028 wrong, so q = 0.972 on unmarked and '.' items).
        """
        mark = problem.prompt[:1] if problem.prompt[:1] in "?." else ""
        if mark and mark in self.conf_known:
            r = problem.meta["rate"]
        else:
            pool = [(1 - self.noise_frac - self.noise2_frac, 0.0)] + [(f, rt) for m, f, rt in (("?", self.noise_frac, self.noise_rate), (".", self.noise2_frac, self.noise2_rate)) if m not in self.conf_known]
            r = sum(f * rt for f, rt in pool) / sum(f for f, _ in pool)
        return 1 - r, r / (self.modulus - 1)

    def greedy_prob(self, problem: Problem, habit_right: bool) -> float:
        """What a calibrated greedy policy states (conf_mode "greedy"): the chance its answer is scored correct.

        ``habit_right``: the chain's final value is the true one when only the '*2' habit is applied (no random
        slips; a greedy answer makes none). The teacher sees the value it wrote on each '*2' step, so it knows
        when its habit took it off the true chain (q ~ 0.01) and when it did not (q = P(label true)); random slips
        it does not see. A policy that answers greedily and states this digit is calibrated up to the digit's
        resolution, whatever its accuracy on the '*2' items: an RLVR fix of the habit moves items from the low
        digit to the high one with the answer, so ECE can move only if RL changes the digits themselves.
        """
        right, wrong = self.label_odds(problem)
        return right if habit_right else (0.0 if self.sys_mode == "unreduced" else wrong)  # an unreduced value never matches

    def habit_values(self, prompt: str) -> list[int]:
        """The chain's values with only the '*2' habit applied (no random slips): what a greedy copy of the teacher writes."""
        v, steps = self.mc._steps(prompt.lstrip("?."))
        out = []
        for op, x in steps:
            v = self._habit(op, x, v) if self.is_pattern(op, x, v) else OP_FN[op](v, x) % self.modulus
            out.append(v)
        return out

    def teacher_trace(self, problem: Problem, rng) -> str:
        # same draws as ModChain.teacher_trace when sys_op is off (one uniform per step, an integer per slip)
        v, steps = self.mc._steps(problem.prompt.lstrip("?."))
        vals, h, t = [], v, v  # h: the chain with only the habit applied; t: the true chain
        wrote_habit = False  # "unreduced": the teacher sees a value >= m in its own trace
        for op, x in steps:
            hit = self.is_pattern(op, x, v)
            vp = v
            v, h, t = OP_FN[op](v, x) % self.modulus, OP_FN[op](h, x) % self.modulus, OP_FN[op](t, x) % self.modulus
            if hit:
                if rng.random() < self.sys_err:
                    v, h, wrote_habit = self._habit(op, x, vp), (h + self.sys_shift) % self.modulus, True
            elif rng.random() < self.eps_exec:
                v = (v + int(rng.integers(1, self.modulus))) % self.modulus
            vals.append(v)
        right = not wrote_habit if self.sys_mode == "unreduced" else h == t
        q = self.greedy_prob(problem, right) if self.conf_mode == "greedy" else self.stated_prob(problem)
        d = int(np.clip(round(10 * q - 0.5 + rng.normal(0, self.conf_jitter)), 0, 9))
        return ";".join(str(x) for x in vals) + f"|{d}$"

    def reward(self, problem: Problem, response: str) -> float:
        return binary_reward([response], answers=[problem.meta["ref"]])[0]

    def token_labels(self, response: str) -> list[int]:
        head = response.split("|")[0]
        return [EXECUTION if c.isdigit() else OTHER for c in head] + [OTHER] * (len(response) - len(head))
