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
    # ModWalk (replicate/tasks/modwalk.py): free moves + one-token running sums, so the base starts
    # near 1 nat (countdown-lite: 0.23-0.35) and the entropy law's functional form is testable;
    # a parity-locked hard subset (~17% of the held-out set) is the non-transferable ceiling
    task="modwalk",
    # chosen by prototypes on this box (bench/results/replicate_cpu_scale.md): 4 moves, 4-6 allowed,
    # teacher wrong plan 0.3, slip 0.2 -> H0 ~1.08 nats, base val accuracy ~0.05, RL to ~0.38 at lr 2e-4
    task_kwargs={"n_moves": 4, "n_allowed": 6, "min_allowed": 4, "hard_frac": 0.25, "p_wrong_plan": 0.3, "eps_exec": 0.2},
    # rl-methods §0.4: "CPU tests use 0.1-0.5M params"; d128 x 2 layers = 0.39M at vocab 39
    model=ModelConfig(d_model=128, n_layers=2, n_heads=4, max_positions=32),
    pretrain=PretrainConfig(n_traces=60_000, steps=1500, batch_size=128, lr=3e-3, warmup=50, eval_problems=256, eval_samples=16),
    # issue 10: >= 256 held-out problems x >= 4 samples per validation point, >= 40 points per seed
    # lr 2e-4: at 1e-3 the policy destabilised (entropy up, accuracy 0); at 2e-4 entropy falls over ~100 steps
    grpo=GRPOConfig(steps=160, prompts_per_step=32, group_size=8, lr=2e-4, mini_batches=4, val_every=4, val_problems=256, val_samples=4),
    default_seeds=3,
    summary="{params}-parameter Llama, ModWalk (4 moves mod 10, parity-locked hard subset), 160 GRPO steps x 256 rollouts, 2-core CPU",
    expected="~7 min for 3 seeds incl. pretraining 3 bases (~5 min, cached for every experiment after), then ~1 min of RL per seed",
    measured={
        "source": "results/cpu/entropy-law/result.json (3 seeds, 2026-11-29, this 2-core box, 2 single-thread processes)",
        "h0_nats": [1.099, 1.135, 1.112],
        "base_pass1": [0.068, 0.035, 0.034],
        "val_accuracy_start_final": [[0.062, 0.423], [0.032, 0.148], [0.036, 0.292]],
        "hard_accuracy_after_rl": [0.0, 0.0, 0.0],
        "wall": "7m19s (bases 3 x ~2.5 min on 2 processes, RL 45-59 s per seed)",
    },
)

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
