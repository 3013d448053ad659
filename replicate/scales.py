"""The scales every experiment runs at: ``smoke`` (CPU plumbing check), ``cpu`` (decides on a
2-core laptop, minutes) and ``gpu`` (one GPU).

A scale fixes task, model, base pretraining and GRPO settings; experiments may override GRPO
fields. Bases are cached per (task, scale, seed, config hash), so two experiments at one scale
share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from replicate.model import ModelConfig
from replicate.pretrain import PretrainConfig
from replicate.trainer import GRPOConfig


@dataclass(frozen=True)
class Scale:
    name: str
    task: str
    task_kwargs: dict
    model: ModelConfig
    pretrain: PretrainConfig
    grpo: GRPOConfig
    default_seeds: int
    summary: str  # "{params}" is filled in with the parameter count
    expected: str = ""  # expected wall time, for `list`
    extra: dict = field(default_factory=dict)
    # what a committed run at this scale measured (H0, base and final accuracy, the hard subset
    # after RL, wall time), with the result file it comes from; shown by `python -m replicate list`
    measured: dict = field(default_factory=dict)

    def with_grpo(self, **kw) -> Scale:
        return replace(self, grpo=replace(self.grpo, **kw))

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "task": self.task,
            "task_kwargs": dict(self.task_kwargs),
            "model": self.model.to_dict(),
            "pretrain": self.pretrain.to_dict(),
            "grpo": self.grpo.to_dict(),
        }


SMOKE = Scale(
    name="smoke",
    task="countdown",
    # 2 numbers: the only countdown a 0.1M model learns in ~40 s of CPU pretraining; 1..15 keeps
    # the prompt space (~1.5k) large enough that excluding the held-out prompts does not strip the
    # training distribution of its hard problems (with 1..9 it did: val held every hard prompt)
    task_kwargs={"n_numbers": 2, "max_number": 15, "max_target": 99, "hard_frac": 0.25},
    model=ModelConfig(d_model=64, n_layers=2, n_heads=4, max_positions=64),
    pretrain=PretrainConfig(n_traces=20_000, steps=400, batch_size=128, lr=5e-3, warmup=20, eval_problems=48, eval_samples=16),
    grpo=GRPOConfig(steps=20, prompts_per_step=16, group_size=8, lr=5e-4, mini_batches=4, val_every=2, val_problems=128),
    default_seeds=1,
    summary="{params}-parameter Llama, countdown-lite (2 numbers, 1..15), 20 GRPO steps x 128 rollouts, CPU smoke test",
    expected="~2 min per seed on a 2-core CPU",
)

GPU = Scale(
    name="gpu",
    task="countdown",
    # rl-methods §0.2: GPU countdown uses 3-4 numbers; 3 numbers 1..20 keeps responses <= ~30 tokens
    task_kwargs={"n_numbers": 3, "max_number": 20, "max_target": 200, "hard_frac": 0.25},
    # the §0.4 "GPU workhorse": 4 layers, d=256 (~3.2M parameters at vocab 39)
    model=ModelConfig(d_model=256, n_layers=4, n_heads=4, max_positions=64),
    pretrain=PretrainConfig(n_traces=100_000, steps=2000, batch_size=512, lr=2e-3, warmup=100, eval_problems=256, eval_samples=64),
    grpo=GRPOConfig(steps=200, prompts_per_step=64, group_size=8, lr=3e-5, mini_batches=4, val_every=4, val_problems=512, val_samples=4),
    default_seeds=3,
    summary="{params}-parameter Llama, countdown-lite (3 numbers, 1..20), 200 GRPO steps x 512 rollouts, one GPU",
    expected="~4-5 min for 3 seeds incl. base pretraining on one H100 (not yet measured)",
)

CPU = Scale(
    name="cpu",
    # ModWalk (replicate/tasks/modwalk.py): free moves + one-token states; a parity-locked hard subset
    # (~20% of the held-out set, needing the move the teacher never writes) is the non-transferable ceiling.
    task="modwalk",
    # issue 19: the starting entropy must be choice, not noise. The first cpu task (4 moves, 4-6 allowed,
    # teacher slips 0.2) drew ~59% of its 1.1-nat H0 from state slips, which make every walk wrong.
    # Now the teacher never slips (eps_exec 0: states are determined) and H0 comes from the moves:
    # 6 moves from 6-9 allowed (every digit but 7), ~ln 7.5 nats per free move over 13 tokens;
    # states count down to 0 (count_down), so the last move copies the state before it, which the
    # base learns; p_wrong_plan 0.3 leaves the base below its ceiling (the last move is sometimes
    # wrong: error a GRPO run can remove). Chosen on pilot seed 100 (bench/results/pilot_tasks.md):
    # with 5 moves H0 was 0.77 nats (< the entropy law's 0.8 precondition) at a choice share of 0.81.
    task_kwargs={"n_moves": 6, "n_allowed": 9, "min_allowed": 6, "hard_frac": 0.25, "p_wrong_plan": 0.3, "eps_exec": 0.0, "count_down": True},
    # rl-methods §0.4: "CPU tests use 0.1-0.5M params"; d128 x 2 layers = 0.39M at vocab 39
    model=ModelConfig(d_model=128, n_layers=2, n_heads=4, max_positions=32),
    pretrain=PretrainConfig(n_traces=60_000, steps=1500, batch_size=128, lr=3e-3, warmup=50, eval_problems=256, eval_samples=16),
    # issue 10: >= 256 held-out problems x >= 4 samples per validation point, >= 40 points per seed
    # lr 2e-4: at 1e-3 the policy destabilised (entropy up, accuracy 0); at 2e-4 entropy falls over ~100 steps
    grpo=GRPOConfig(steps=160, prompts_per_step=32, group_size=8, lr=2e-4, mini_batches=4, val_every=4, val_problems=256, val_samples=4),
    default_seeds=5,
    summary="{params}-parameter Llama, ModWalk (6 moves mod 10 from 6-9 allowed, determined count-down states, parity-locked hard subset), 160 GRPO steps x 256 rollouts, 2-core CPU",
    expected="bases ~4-5 min CPU each (cached for every experiment after), then ~2-3 min of RL per seed on one core",
)

# two-phase (issue 19): on CPU's task strategy diversity starts saturated (semantic entropy 98.6-99.7%
# of ln 256), so it could only fall. Here the teacher has a habit: 75% of its walks are the prompt's
# canonical correct walk (ModWalk.habit_walk), so the base prefers one plan among many correct ones
# and strategy diversity starts low and can rise; 15% are other correct walks, 10% random walks, and
# states slip with 0.1 (execution noise for phase 1 to consolidate). Pilot seed 100: semantic entropy
# of the free moves 58% of ln 256 over a 32 x 8 batch, 43% of ln 8 within prompts; planning-token
# entropy 40% of its ceiling (bench/results/pilot_tasks.md).
TWO_PHASE_TASK = {"n_moves": 4, "n_allowed": 6, "min_allowed": 4, "hard_frac": 0.25, "p_wrong_plan": 0.4, "eps_exec": 0.1, "p_habit": 0.75, "count_down": True}

# A tiny scale for tests of the gpu code path on CPU (same shapes of config, minutes -> seconds).
TINY = Scale(
    name="tiny",
    task="countdown",
    task_kwargs={"n_numbers": 2, "max_number": 9, "max_target": 99, "hard_frac": 0.25},
    model=ModelConfig(d_model=32, n_layers=1, n_heads=2, max_positions=64),
    pretrain=PretrainConfig(n_traces=2000, steps=30, batch_size=64, lr=5e-3, warmup=5, eval_problems=8, eval_samples=4),
    grpo=GRPOConfig(steps=4, prompts_per_step=4, group_size=4, lr=1e-3, mini_batches=2, val_every=1, val_problems=16),
    default_seeds=1,
    summary="{params}-parameter Llama, countdown-lite (2 numbers), 4 GRPO steps x 16 rollouts (test scale)",
)

SCALES = {"smoke": SMOKE, "cpu": CPU, "gpu": GPU, "tiny": TINY}
