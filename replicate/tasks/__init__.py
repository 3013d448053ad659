"""Synthetic verifiable reasoning tasks (countdown-lite, ModChain) with exact checkers."""

from replicate.tasks.base import EXECUTION, LABEL_NAMES, OTHER, PLANNING, Problem, Task, rewards
from replicate.tasks.countdown import Countdown
from replicate.tasks.modchain import ModChain
from replicate.tasks.modwalk import ModWalk

TASKS = {"countdown": Countdown, "modchain": ModChain, "modwalk": ModWalk}


def make_task(name: str, **kwargs) -> Task:
    """Build a task by name (``countdown``, ``modchain`` or ``modwalk``) with keyword overrides."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {sorted(TASKS)}")
    return TASKS[name](**kwargs)


__all__ = ["EXECUTION", "LABEL_NAMES", "OTHER", "PLANNING", "TASKS", "Countdown", "ModChain", "ModWalk", "Problem", "Task", "make_task", "rewards"]
