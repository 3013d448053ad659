"""What every replicate task provides: problems, teacher traces, an exact reward, token labels.

A task is a plain object (no base class to inherit from) with the attributes and methods of
:class:`Task`. Prompts are left-padded to ``prompt_len`` so a batch of prompts needs no attention
mask; responses end with the eos token ``$``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# Per-token labels, by construction of the trace grammar (needed by HICRA / two-phase, 2509.03646).
OTHER, PLANNING, EXECUTION = 0, 1, 2
LABEL_NAMES = {OTHER: "other", PLANNING: "planning", EXECUTION: "execution"}


@dataclass(frozen=True)
class Problem:
    """One task instance. ``hard`` marks the non-transferable subset (see the task docstrings)."""

    prompt: str
    answer: int
    hard: bool = False
    meta: dict = field(default_factory=dict, compare=False, hash=False)


class Task(Protocol):
    name: str
    prompt_len: int  # every prompt is left-padded to this many characters
    max_response_len: int  # longest valid response including the eos token

    def sample_problems(self, rng, n: int) -> list[Problem]: ...

    def teacher_trace(self, problem: Problem, rng) -> str: ...

    def reward(self, problem: Problem, response: str) -> float: ...

    def token_labels(self, response: str) -> list[int]: ...


def rewards(task: Task, problems: list[Problem], completions: list[str], **kwargs) -> list[float]:
    """Reward contract of the trl house style: one float per completion (1.0 exact, else 0.0)."""
    return [task.reward(p, c) for p, c in zip(problems, completions, strict=True)]
