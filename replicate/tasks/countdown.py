"""Countdown-lite (T1 of rl-methods §0.2): reach a target from n numbers, each used once.

Grammar (one character per token)::

    prompt    3,5,7>56:            (left-padded with '_' to a fixed length)
    response  ab+c*|3+5=8;8*7=56$
              ^^^^^ PLAN  : a left-associative skeleton in postfix, letters name the numbers
                   ^ sep  ^^^^^^^^^^^ EXEC: one step per operator, "x op y=z", ';'-separated

PLAN characters are labelled planning, EXEC characters execution, separators/eos other.
Reward is 1.0 iff the plan uses every letter once, every EXEC step applies the plan's operator to
the right operands (either order for + and *) with correct arithmetic, and the last result equals
the target. Values must stay in [0, 999]; '/' is exact integer division.

Hard subset (issue 4): a problem is *hard* when its target is reachable only with '/'. The
teacher never uses '/' on easy problems and only rarely (``p_div``) on hard ones, so the skill
(choosing and computing a division) neither appears in the base model's habits nor transfers
from RL on easy problems: the RL plateau should sit near 1 - hard_frac (plus what the base
already gets), below 100%, which makes the law's ceiling -a+b a real prediction (2505.22617 §2).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from replicate.tasks.base import EXECUTION, OTHER, PLANNING, Problem

LETTERS = "abcdefgh"
EASY_OPS = "+-*"
ALL_OPS = "+-*/"
MAX_VALUE = 999


def _apply(x: int, op: str, y: int) -> int | None:
    if op == "+":
        z = x + y
    elif op == "-":
        z = x - y
    elif op == "*":
        z = x * y
    else:
        if y == 0 or x % y:
            return None
        z = x // y
    return z if 0 <= z <= MAX_VALUE else None


@lru_cache(maxsize=200_000)
def _plans(numbers: tuple[int, ...], min_used: int | None = None) -> tuple[tuple[str, tuple[int, ...], int], ...]:
    """All valid (skeleton, permutation, value) using >= ``min_used`` (default: all) of ``numbers``."""
    out = []
    n = len(numbers)
    perms = (p for k in range(min_used or n, n + 1) for p in itertools.permutations(range(n), k))
    for perm in perms:
        for ops in itertools.product(ALL_OPS, repeat=len(perm) - 1):
            v = numbers[perm[0]]
            for op, j in zip(ops, perm[1:], strict=True):
                v = _apply(v, op, numbers[j])
                if v is None:
                    break
            if v is None:
                continue
            skel = LETTERS[perm[0]] + "".join(LETTERS[j] + op for op, j in zip(ops, perm[1:], strict=True))
            out.append((skel, perm, v))
    return tuple(out)


@lru_cache(maxsize=200_000)
def _targets(numbers: tuple[int, ...], max_target: int, min_used: int | None = None) -> tuple[list[int], list[int]]:
    """(values of +-* plans with repeats, targets reachable only with '/') within [1, max_target]."""
    plans = _plans(numbers, min_used)
    easy = [v for s, _, v in plans if "/" not in s and 1 <= v <= max_target]
    hard = sorted({v for s, _, v in plans if "/" in s and 1 <= v <= max_target} - set(easy))
    return easy, hard


@dataclass
class Countdown:
    """Countdown-lite task; see the module docstring. Hyperparameters are the teacher's noise."""

    n_numbers: int = 3
    max_number: int = 9
    max_target: int = 99
    hard_frac: float = 0.25  # share of problems needing '/'
    p_wrong_plan: float = 0.4  # teacher writes a random (usually wrong) plan: pass@1 << pass@k
    eps_exec: float = 0.15  # each EXEC step corrupted with this probability (rl-methods §0.3)
    p_div: float = 0.02  # teacher uses '/' on a hard problem: "the base almost never shows" it
    swap_prob: float = 0.5  # phrasing diversity: commutative operands written in either order
    # EXEC segment: "full" writes each step "x op y=z"; "values" only the running value z; "none"
    # writes the plan alone. Fewer determined tokens per response = higher per-token entropy
    # (issue 10: the law's functional form is untestable when H stays below ~0.35 nats).
    exec_format: str = "full"
    strategy_bias: bool = True  # False: the teacher's wrong plans are uniform over all +-* plans
    # Countdown's own rule lets a solution leave numbers unused; "use every number" makes the last
    # letter and the eos of every plan determined tokens (zero entropy). min_used=None: use all.
    min_used: int | None = None
    name: str = "countdown"

    def __post_init__(self) -> None:
        if not 2 <= self.n_numbers <= len(LETTERS):
            raise ValueError(f"n_numbers must be in 2..{len(LETTERS)}")
        if self.exec_format not in ("full", "values", "none"):
            raise ValueError("exec_format must be full, values or none")
        w = len(str(self.max_number))
        self.prompt_len = self.n_numbers * (w + 1) + len(str(self.max_target)) + 1
        # plan + '|' + steps (+';') + '$'; "x op y=z" is 2 operands, op, '=' and the value
        step = {"full": 3 + 3 * len(str(MAX_VALUE)), "values": len(str(MAX_VALUE))}.get(self.exec_format, 0) + 1
        plan = 2 * self.n_numbers - 1
        self.max_response_len = plan + 1 if self.exec_format == "none" else plan + 1 + (self.n_numbers - 1) * step + 1
        self._pool_cache: dict = {}

    # ---- problems -------------------------------------------------------------------------
    def sample_problems(self, rng, n: int) -> list[Problem]:
        out: list[Problem] = []
        while len(out) < n:
            hard = bool(rng.random() < self.hard_frac)
            while True:  # redraw numbers until the chosen subset has a target in range
                nums = tuple(int(x) for x in rng.integers(1, self.max_number + 1, size=self.n_numbers))
                easy_vals, hard_vals = _targets(nums, self.max_target, self.min_used)
                pool = hard_vals if hard else easy_vals
                if pool:
                    break
            # easy: the value of a random +-* plan, so common targets come up more often (TinyZero-like)
            target = pool[int(rng.integers(len(pool)))]
            prompt = ",".join(str(x) for x in nums) + ">" + str(target) + ":"
            out.append(Problem(prompt=prompt, answer=target, hard=hard, meta={"numbers": nums}))
        return out

    def _numbers(self, problem: Problem) -> tuple[int, ...]:
        head = problem.prompt.split(">")[0]
        return tuple(int(x) for x in head.split(","))

    # ---- teacher --------------------------------------------------------------------------
    def _strategy_weight(self, skel: str) -> float:
        # biased strategy mixture (rl-methods §0.3): '+' first, '*' common, '-' rare, and
        # numbers taken in prompt order preferred, so some valid strategies are rare
        if not self.strategy_bias:
            return 1.0
        w = 1.0
        for op, ow in (("+", 1.0), ("*", 0.6), ("-", 0.25), ("/", 1.0)):
            w *= ow ** skel.count(op)
        letters = [c for c in skel if c in LETTERS]
        if letters == sorted(letters):
            w *= 3.0
        return w

    def render(self, numbers: tuple[int, ...], skel: str, rng=None, eps: float = 0.0, swap: float = 0.0) -> str:
        """Render plan + EXEC for ``skel``; with ``rng``, corrupt steps (prob eps) / swap operands."""
        letters = [c for c in skel if c in LETTERS]
        ops = [c for c in skel if c in ALL_OPS]
        v = numbers[LETTERS.index(letters[0])]
        steps = []
        for op, letter in zip(ops, letters[1:], strict=True):
            y = numbers[LETTERS.index(letter)]
            z = _apply(v, op, y)
            if z is None:
                return ""
            if rng is not None and rng.random() < eps:
                # an arithmetic slip; later steps compute correctly from the wrong value
                z = max(0, z + int(rng.choice([-3, -2, -1, 1, 2, 3])))
            x1, x2 = v, y
            if rng is not None and op in "+*" and rng.random() < swap:
                x1, x2 = y, v
            steps.append(f"{x1}{op}{x2}={z}" if self.exec_format == "full" else str(z))
            v = z
        if self.exec_format == "none":
            return skel + "$"
        return skel + "|" + ";".join(steps) + "$"

    def teacher_trace(self, problem: Problem, rng) -> str:
        nums = self._numbers(problem)
        skels, vals, has_div, weights = self._table(nums)
        correct = (vals == problem.answer) & ~has_div
        if rng.random() < self.p_wrong_plan or not correct.any():
            if problem.hard and rng.random() < self.p_div and (vals == problem.answer).any():
                sel = vals == problem.answer  # the rare division solution
            else:
                sel = ~has_div  # a random strategy, right only by chance
        else:
            sel = correct
        w = weights * sel
        skel = skels[int(rng.choice(len(skels), p=w / w.sum()))]
        return self.render(nums, skel, rng, self.eps_exec, self.swap_prob)

    def _table(self, nums: tuple[int, ...]):
        # cached per number tuple: skeletons, values, uses-'/' flags and strategy-mixture weights
        if nums not in self._pool_cache:
            plans = _plans(nums, self.min_used)
            skels = [s for s, _, _ in plans]
            self._pool_cache[nums] = (
                skels,
                np.array([v for _, _, v in plans]),
                np.array(["/" in s for s in skels]),
                np.array([self._strategy_weight(s) for s in skels], float),
            )
        return self._pool_cache[nums]

    # ---- checker and labels ---------------------------------------------------------------
    def reward(self, problem: Problem, response: str) -> float:
        response = response.rstrip("$")
        if self.exec_format == "none":
            skel, exec_ = response, None
        elif response.count("|") != 1:
            return 0.0
        else:
            skel, exec_ = response.split("|")
        n = self.n_numbers
        used = (len(skel) + 1) // 2  # numbers the plan uses
        letters, ops = [skel[:1]] + list(skel[1::2]), list(skel[2::2])
        if len(skel) % 2 == 0 or not (self.min_used or n) <= used <= n or len(set(letters)) != used or not set(letters) <= set(LETTERS[:n]):
            return 0.0
        if any(o not in ALL_OPS for o in ops):
            return 0.0
        nums = self._numbers(problem)
        steps = exec_.split(";") if exec_ is not None else [None] * (used - 1)
        if len(steps) != used - 1:
            return 0.0
        v = nums[LETTERS.index(letters[0])]
        for op, letter, step in zip(ops, letters[1:], steps, strict=True):
            y = nums[LETTERS.index(letter)]
            z = _apply(v, op, y)
            if z is None:
                return 0.0
            if self.exec_format == "full":
                allowed = {f"{v}{op}{y}={z}"}
                if op in "+*":
                    allowed.add(f"{y}{op}{v}={z}")
            else:
                allowed = {str(z)} if self.exec_format == "values" else {None}  # "none": nothing to check
            if step not in allowed:
                return 0.0
            v = z
        return 1.0 if v == problem.answer else 0.0

    def token_labels(self, response: str) -> list[int]:
        labels, seg = [], PLANNING
        for c in response:
            if c in "|$":
                labels.append(OTHER)
                seg = EXECUTION
            elif c == ";":
                labels.append(OTHER)
            else:
                labels.append(seg)
        return labels
