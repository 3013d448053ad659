"""ModChain (T2 of rl-methods §0.2): evaluate ((x0 op1 x1) op2 x2)... mod 97 step by step.

Grammar::

    prompt    12+45*7-33:          (left-padded)
    response  57;11;75$            (every intermediate value mod 97; the last is the answer)

All response digits are execution tokens; ';' and '$' are other. Reward 1.0 iff every
intermediate value is right (unique answer, exact checker).

Hard subset: chains with ``hard_len`` steps, longer than any chain the teacher shows in
pretraining (``max_len``); RL on short chains does not teach the model to carry on past positions
it never saw, so the plateau stays below 100%.
"""

from __future__ import annotations

from dataclasses import dataclass

from replicate.tasks.base import EXECUTION, OTHER, Problem

OPS = "+-*"


def split_chain(body: str, ops: str) -> tuple[int, list[tuple[str, int]]]:
    """``"12+45*7"`` -> ``(12, [("+", 45), ("*", 7)])``: the start value and each (operator, operand)."""
    toks, cur = [], ""
    for c in body:
        if c in ops:
            toks += [int(cur), c]
            cur = ""
        else:
            cur += c
    toks.append(int(cur))
    return toks[0], [(toks[i], toks[i + 1]) for i in range(1, len(toks), 2)]


@dataclass
class ModChain:
    modulus: int = 97
    min_len: int = 2
    max_len: int = 4  # longest chain in pretraining
    hard_len: int = 6  # length of the non-transferable hard chains
    hard_frac: float = 0.25
    eps_exec: float = 0.15  # teacher slip per step
    name: str = "modchain"

    def __post_init__(self) -> None:
        w = len(str(self.modulus - 1))
        self.prompt_len = (self.hard_len + 1) * (w + 1)
        self.max_response_len = self.hard_len * (w + 1)

    def _steps(self, prompt: str) -> tuple[int, list[tuple[str, int]]]:
        return split_chain(prompt.rstrip(":"), OPS)

    def _values(self, prompt: str) -> list[int]:
        v, steps = self._steps(prompt)
        out = []
        for op, x in steps:
            v = {"+": v + x, "-": v - x, "*": v * x}[op] % self.modulus
            out.append(v)
        return out

    def sample_problems(self, rng, n: int) -> list[Problem]:
        out = []
        for _ in range(n):
            hard = rng.random() < self.hard_frac
            k = self.hard_len if hard else int(rng.integers(self.min_len, self.max_len + 1))
            xs = rng.integers(0, self.modulus, size=k + 1)
            ops = rng.choice(list(OPS), size=k)
            prompt = str(xs[0]) + "".join(f"{o}{x}" for o, x in zip(ops, xs[1:], strict=True)) + ":"
            out.append(Problem(prompt=prompt, answer=self._values(prompt)[-1], hard=hard))
        return out

    def teacher_trace(self, problem: Problem, rng) -> str:
        # the teacher only ever shows chains up to max_len; hard problems get a truncated attempt
        v, steps = self._steps(problem.prompt)
        vals = []
        for op, x in steps[: self.max_len]:
            v = {"+": v + x, "-": v - x, "*": v * x}[op] % self.modulus
            if rng.random() < self.eps_exec:
                v = (v + int(rng.integers(1, self.modulus))) % self.modulus
            vals.append(v)
        return ";".join(str(x) for x in vals) + "$"

    def reward(self, problem: Problem, response: str) -> float:
        want = ";".join(str(x) for x in self._values(problem.prompt))
        return 1.0 if response.rstrip("$") == want else 0.0

    def token_labels(self, response: str) -> list[int]:
        return [OTHER if c in ";$" else EXECUTION for c in response]
