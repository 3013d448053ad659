"""GRPO throughput of the replication engine (``replicate/``) against TRL's ``GRPOTrainer``.

Per scale (several in one run, interleaved): same model (the scale's Llama, the same pretrained
base weights, a fresh copy per run), same task and prompts (TRL gets exactly the prompt stream
``train_grpo`` draws, in order, left-padded with '_' like the engine's input; rewards from the
engine's exact checker), same batch (the scale's prompts x group, max new tokens = the task's
response cap, its mini-batch optimizer steps per rollout batch = one epoch, token-mean loss, eps
0.2, beta=0, no vLLM, fp32, AdamW(0.9, 0.99), constant lr, grad clip 1.0), both sides in one
process, interleaved over several repetitions (order alternating). Per side and as engine/TRL
ratios, median over reps:

- RL steps/s: one RL step = sample the rollout batch, score it, old log-probs, all its
  mini-batch updates (engine: one ``train_grpo`` iteration, end to end between ``on_step``
  calls; TRL: ``steps_per_generation`` optimizer steps, between ``on_step_end`` callbacks).
- rollout (generation) tokens/s: response tokens sampled (through eos) per second spent in the
  sampler call only (engine: ``replicate.sampling.sample``; TRL:
  ``GRPOTrainer._generate_single_turn`` = padding + ``model.generate()`` + eos masking).
- e2e tokens/s: the same tokens per second of whole RL step.

Every figure is given on two clocks: process CPU time (robust on a shared machine: with one
torch thread it counts work done, not time spent waiting for a core) and wall time.

The engine side runs a *matched* config: every group is updated (TRL does not drop all-equal
groups; the engine's update skips the forward of rows with A = 0, which changes neither the loss
nor its gradient, see ``replicate/update.py``) and no same-batch entropy re-measurement after the
update (TRL has none; off by default since issue 19); validation falls only on untimed iterations. ``--engine-as-shipped`` adds the engine with its defaults;
``--trl-raw-prompts`` adds TRL on unpadded prompts (its usual path: per-batch left padding with
an attention mask; the base never saw unpadded prompts, so its reward differs).

Scales: the project's (``smoke``, ``cpu``, ...) plus ``probe-0.4m`` (the smoke task and batch with a
0.39M d128 model). TRL is a bench-only dependency (bench/requirements.txt), not a project one::

    .venv/bin/pip install -r bench/requirements.txt     # adds trl, accelerate, datasets; torch/transformers unchanged

(``replicate`` is imported from the checkout via sys.path.) Run from the repo root; the first run
pretrains each scale's base (cached in --cache)::

    OMP_NUM_THREADS=1 .venv/bin/python bench/replicate_grpo_vs_trl.py --scales smoke,cpu [--reps 5 --warm 3 --steps 5] [--engine-as-shipped] [--trl-raw-prompts]

Record results in bench/results/replicate_grpo_vs_trl.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import replicate.trainer as engine_trainer  # noqa: E402
from replicate.checkpoint import default_cache_dir  # noqa: E402
from replicate.model import ModelConfig  # noqa: E402
from replicate.pretrain import get_base, heldout_problems  # noqa: E402
from replicate.scales import SCALES  # noqa: E402
from replicate.tasks import Problem, make_task  # noqa: E402
from replicate.tokenizer import BOS, EOS, PAD, VOCAB  # noqa: E402


# ---- shared setup ------------------------------------------------------------------------------
def hf_char_tokenizer():
    """The engine's character vocabulary as a ``PreTrainedTokenizerFast`` (ids identical)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    t = Tokenizer(models.WordLevel(vocab={c: i for i, c in enumerate(VOCAB)}, unk_token=PAD))
    t.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")  # one char, one token
    t.decoder = decoders.Fuse()  # concatenate, no spaces between tokens
    return PreTrainedTokenizerFast(tokenizer_object=t, pad_token=PAD, bos_token=BOS, eos_token=EOS, padding_side="left")


def engine_prompt_stream(task, cfg, *, seed: int, val, n_steps: int) -> list[Problem]:
    """The prompts ``train_grpo(seed=seed, val_problems=val)`` draws for its first ``n_steps``
    steps, in order (same RNG stream and held-out filter), so TRL sees the same prompts per step."""
    rng = np.random.default_rng(seed + 1_000_003)  # replicate/trainer.py's problem RNG
    exclude = {p.prompt for p in val}
    train_hard = getattr(task, "train_hard", True)  # the trainer's hard-prompt filter (ModWalk keeps its hard subset out of RL)
    out: list[Problem] = []
    for _ in range(n_steps):
        problems: list[Problem] = []
        while len(problems) < cfg.prompts_per_step:
            problems += [p for p in task.sample_problems(rng, cfg.prompts_per_step) if p.prompt not in exclude and (train_hard or not p.hard)]
        out += problems[: cfg.prompts_per_step]
    return out


def clock() -> tuple[float, float]:
    """(wall, process CPU) seconds. CPU time is the robust number on a shared machine: with one
    torch thread it counts the work done, not the time spent waiting for a core."""
    return time.perf_counter(), time.process_time()


def summarise(marks, gen, warm: int, steps: int, per_step: int) -> dict:
    """marks: clock() at start and after every optimizer/RL step; gen: (wall, cpu, tokens) per rollout."""
    out: dict = {}
    g = gen[warm : warm + steps]
    tokens = sum(x[2] for x in g)
    for i, name in ((0, "wall"), (1, "cpu")):
        step_s = [marks[(k + 1) * per_step][i] - marks[k * per_step][i] for k in range(warm, warm + steps)]
        gen_s = sum(x[i] for x in g)
        out[f"{name}_step_s"] = step_s
        out[f"{name}_steps_per_s"] = steps / sum(step_s)
        out[f"{name}_gen_tok_per_s"] = tokens / gen_s
        out[f"{name}_gen_s_per_step"] = gen_s / steps
        out[f"{name}_e2e_tok_per_s"] = tokens / sum(step_s)
    out["tokens_per_step"] = tokens / steps
    return out


# ---- engine ------------------------------------------------------------------------------------
def run_engine(base, task, cfg, *, warm: int, steps: int, seed: int, val) -> dict:
    """Time ``train_grpo`` iterations warm..warm+steps-1 (step 0 carries validation; skipped).

    Iteration k is timed from the end of iteration k-1 to its own end (``on_step``), as TRL's
    RL steps are timed between ``on_step_end`` callbacks."""
    calls: list[tuple[int, float, float, int]] = []  # (rows, wall, cpu, tokens) of every sampler call
    marks: list[tuple[float, float]] = []
    real_sample = engine_trainer.sample

    def timed_sample(model, prompt_ids, **kw):
        w0, c0 = clock()
        ro = real_sample(model, prompt_ids, **kw)
        w1, c1 = clock()
        calls.append((prompt_ids.shape[0], w1 - w0, c1 - c0, int(ro.response_mask.sum())))
        return ro

    model = copy.deepcopy(base)
    engine_trainer.sample = timed_sample
    try:
        recs = engine_trainer.train_grpo(model, task, replace(cfg, steps=warm + steps), seed=seed, device="cpu", val_problems=val, on_step=lambda rec: marks.append(clock()))
    finally:
        engine_trainer.sample = real_sample
    rows = cfg.prompts_per_step * cfg.group_size
    # validation batches have val_problems rows; train call k is iteration k's rollout
    gen = [c[1:] for c in calls if c[0] == rows]
    timed = recs[warm : warm + steps]
    assert warm >= 1 and len(timed) == steps and all("update_s" in r for r in timed)
    # marks[k] = end of iteration k, so iteration k = marks[k-1] -> marks[k]: index j = k-1 in summarise
    out = summarise(marks, gen[1:], warm - 1, steps, 1)
    out["updates_per_step"] = statistics.mean(r["updates"] for r in timed)
    out["reward"] = statistics.mean(r["reward"] for r in timed)
    out["rows_forwarded_per_step"] = statistics.mean(r.get("rows_forwarded", rows * r["updates"] / cfg.mini_batches) for r in timed)
    return out


# ---- TRL ---------------------------------------------------------------------------------------
def run_trl(base, task, cfg, *, warm: int, steps: int, seed: int, problems, tok, out_dir: str, pad_prompts: bool = True) -> dict:
    from datasets import Dataset
    from transformers import PrinterCallback, TrainerCallback
    from trl import GRPOConfig as TRLConfig
    from trl import GRPOTrainer

    def countdown_reward(prompts, completions, answer, **kwargs):
        # the engine's exact checker; TRL decodes with skip_special_tokens, so no trailing '$'
        return [task.reward(Problem(prompt=p.lstrip(PAD), answer=a), c) for p, c, a in zip(prompts, completions, answer, strict=True)]

    rows = cfg.prompts_per_step * cfg.group_size
    spg = cfg.mini_batches
    args = TRLConfig(
        output_dir=out_dir,
        use_cpu=True,
        bf16=False,
        fp16=False,
        gradient_checkpointing=False,  # TRL's GRPO default is True; the engine does not checkpoint
        seed=seed,
        max_steps=(warm + steps) * spg,
        learning_rate=cfg.lr,
        lr_scheduler_type="constant",
        warmup_steps=0,
        weight_decay=cfg.weight_decay,
        adam_beta1=0.9,
        adam_beta2=0.99,
        max_grad_norm=cfg.grad_clip,
        num_generations=cfg.group_size,
        per_device_train_batch_size=rows // spg,  # one optimizer step per mini-batch
        gradient_accumulation_steps=1,
        steps_per_generation=spg,  # -> generation_batch_size = rows
        num_iterations=1,  # one epoch over the rollout batch, as the engine
        max_completion_length=task.max_response_len,
        temperature=cfg.temperature,
        top_p=1.0,
        top_k=0,
        beta=0.0,
        epsilon=cfg.clip_low,
        epsilon_high=cfg.clip_high,
        loss_type="bnpo",  # token mean over the (local) mini-batch = the engine's token-mean
        scale_rewards="group",
        shuffle_dataset=False,  # the dataset is the engine's prompt stream, 16 prompts per RL step, in order
        use_vllm=False,
        report_to="none",
        logging_steps=spg,  # TRL logs its metrics once per RL step; the engine records one dict per step
        save_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    # prompts left-padded with '_' to the task's prompt length, exactly the engine's (and pretraining's)
    # input: TRL then pads nothing, its attention mask is all ones, positions match the engine's
    # (pad_prompts=False: raw prompts, TRL left-pads per batch with an attention mask -- its usual path,
    # but positions/padding differ from what the base was pretrained on, so its reward drops)
    padded = [PAD * (task.prompt_len - len(p.prompt)) * pad_prompts + p.prompt for p in problems]
    ds = Dataset.from_dict({"prompt": padded, "answer": [p.answer for p in problems]})

    marks: list[tuple[float, float]] = []  # clock() at train begin and after every optimizer step
    gen: list[tuple[float, float, int]] = []

    class Clock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            marks.append(clock())

        def on_step_end(self, args, state, control, **kw):
            marks.append(clock())

    model = copy.deepcopy(base)
    trainer = GRPOTrainer(model=model, reward_funcs=countdown_reward, args=args, train_dataset=ds, processing_class=tok, callbacks=[Clock()])
    trainer.remove_callback(PrinterCallback)  # metrics are still computed and logged, just not printed
    real_gen = trainer._generate_single_turn

    def timed_gen(*a, **kw):
        w0, c0 = clock()
        completion_ids, logprobs = real_gen(*a, **kw)
        w1, c1 = clock()
        gen.append((w1 - w0, c1 - c0, sum(len(c) for c in completion_ids)))
        return completion_ids, logprobs

    trainer._generate_single_turn = timed_gen
    trainer.train()
    assert len(marks) == (warm + steps) * spg + 1, len(marks)
    assert len(gen) == warm + steps, len(gen)
    out = summarise(marks, gen, warm, steps, spg)
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    out["updates_per_step"] = spg
    out["reward"] = statistics.mean(rewards[warm:]) if len(rewards) > warm else None
    return out


# ---- main ----------------------------------------------------------------------------------------
def bench_scales() -> dict:
    """The project's scales plus ``probe-0.4m``: the smoke task and batch with a d128 / 2-layer / 4-head
    model (~0.39M parameters, the size of the planned cpu scale) and the same pretraining recipe."""
    probe = replace(SCALES["smoke"], name="probe-0.4m", model=ModelConfig(d_model=128, n_layers=2, n_heads=4, max_positions=64))
    return {**SCALES, "probe-0.4m": probe}


def setup_scale(name: str, a) -> dict:
    """Task, matched/shipped engine configs, pretrained base and held-out set of one scale."""
    scale = bench_scales()[name]
    task = make_task(scale.task, **scale.task_kwargs)
    # matched engine config: every group updated (TRL does not drop uniform groups), no after-update
    # re-measurement (TRL has none), validation only at steps 0 and `steps` (untimed)
    cfg = replace(scale.grpo, val_every=10**9, val_problems=16, filter_uniform_groups=False, measure_after=False)
    shipped = replace(scale.grpo, val_every=10**9, val_problems=16)
    val = heldout_problems(task, scale.grpo.val_problems)
    t0 = time.perf_counter()
    base_seed = dict((k, int(v)) for k, v in (x.split("=") for x in filter(None, a.base_seed.split(",")))).get(name, a.seed)
    base, meta = get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=base_seed, device="cpu", cache=Path(a.cache), exclude={p.prompt for p in val})
    params = sum(p.numel() for p in {id(p): p for p in base.parameters()}.values())
    print(f"[{name}] base: {params} params, seed {base_seed}, cache_hit={meta.get('cache_hit')}, {time.perf_counter() - t0:.1f}s", flush=True)
    return {"base_seed": base_seed, "scale": scale, "task": task, "cfg": cfg, "shipped": shipped, "val": val[: cfg.val_problems], "base": base, "params": params}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="smoke,probe-0.4m", help="comma-separated: smoke, probe-0.4m, cpu (once registered), ...; interleaved in one run")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warm", type=int, default=3, help="RL steps discarded per repetition and side")
    ap.add_argument("--steps", type=int, default=5, help="RL steps timed per repetition and side")
    ap.add_argument("--seed", type=int, default=0, help="RL seed of rep 0 (rep r: seed + r) and the bases' seed")
    ap.add_argument("--base-seed", default="", help="per-scale base seed, e.g. cpu=100 (reuse a cached base)")
    ap.add_argument("--cache", default=str(default_cache_dir()), help="base-model cache (default: the project's, so the bases of a user's runs are reused; pretrained once)")
    ap.add_argument("--engine-as-shipped", action="store_true", help="also time the engine with its defaults (uniform-group filtering, same-batch entropy after the update)")
    ap.add_argument("--trl-raw-prompts", action="store_true", help="also time TRL on unpadded prompts (its own per-batch padding + attention mask)")
    ap.add_argument("--json", help="write the raw numbers here")
    a = ap.parse_args()

    import transformers
    import trl
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    names = [n.strip() for n in a.scales.split(",") if n.strip()]
    unknown = sorted(set(names) - set(bench_scales()))
    if unknown:
        sys.exit(f"unknown scale(s) {unknown}; choose from {sorted(bench_scales())}")
    S = {n: setup_scale(n, a) for n in names}
    tok = hf_char_tokenizer()

    sides = ["engine", "trl"] + (["engine_shipped"] if a.engine_as_shipped else []) + (["trl_raw_prompts"] if a.trl_raw_prompts else [])
    res: dict[str, dict[str, list[dict]]] = {n: {s: [] for s in sides} for n in names}
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as td:
        for rep in range(a.reps):
            for n in names:
                x = S[n]
                order = sides if rep % 2 == 0 else sides[::-1]  # alternate order against drift
                for side in order:
                    seed = a.seed + rep
                    if side.startswith("trl"):
                        problems = engine_prompt_stream(x["task"], x["cfg"], seed=seed, val=x["val"], n_steps=a.warm + a.steps)
                        r = run_trl(x["base"], x["task"], x["cfg"], warm=a.warm, steps=a.steps, seed=seed, problems=problems, tok=tok, out_dir=td, pad_prompts=side == "trl")
                    else:
                        r = run_engine(x["base"], x["task"], x["cfg"] if side == "engine" else x["shipped"], warm=a.warm, steps=a.steps, seed=seed, val=x["val"])
                    res[n][side].append(r)
                    print(f"rep {rep} {n:11s} {side:15s} cpu: {r['cpu_steps_per_s']:.3f} RL steps/s {r['cpu_gen_tok_per_s']:6.0f} gen tok/s | "
                          f"wall: {r['wall_steps_per_s']:.3f} RL steps/s {r['wall_gen_tok_per_s']:6.0f} gen tok/s | "
                          f"{r['tokens_per_step']:.0f} tok/step, reward {r['reward']:.3f}", flush=True)

    keys = [f"{c}_{k}" for c in ("cpu", "wall") for k in ("steps_per_s", "gen_tok_per_s", "e2e_tok_per_s", "gen_s_per_step")] + ["tokens_per_step"]
    rkeys = [f"{c}_{k}" for c in ("cpu", "wall") for k in ("steps_per_s", "gen_tok_per_s", "e2e_tok_per_s")]
    env = {
        "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__,
        "cpu": platform.processor() or platform.machine(), "nproc": os.cpu_count(), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "torch_threads": torch.get_num_threads(), "loadavg_end": os.getloadavg(), "wall_s": round(time.perf_counter() - t_start, 1),
    }
    print("\nenv:", json.dumps(env))
    out: dict = {"env": env, "scales": {}}
    for n in names:
        x, rn = S[n], res[n]
        cfg, task = x["cfg"], x["task"]
        med = {s: {k: statistics.median(r[k] for r in rn[s]) for k in keys} for s in sides}
        pairs = [(e, t) for e in sides if e.startswith("engine") for t in sides if t.startswith("trl")]
        ratio = {f"{e}/{t}": {k: med[e][k] / med[t][k] for k in rkeys} for e, t in pairs}
        per_rep = {k: [e[k] / t[k] for e, t in zip(rn["engine"], rn["trl"], strict=True)] for k in rkeys}
        setup = {"scale": n, "task": x["scale"].task, "task_kwargs": x["scale"].task_kwargs, "base_seed": x["base_seed"], "params": x["params"], "prompts": cfg.prompts_per_step, "group": cfg.group_size, "rows": cfg.prompts_per_step * cfg.group_size,
                 "mini_batches": cfg.mini_batches, "max_new_tokens": task.max_response_len, "prompt_len": task.prompt_len, "reps": a.reps, "warm": a.warm, "steps": a.steps}
        print(f"\n== {n} ==  setup:", json.dumps(setup))
        for c in ("cpu", "wall"):
            print(f"[{c} time] {'side':15s} {'RL steps/s':>10s} {'gen tok/s':>10s} {'e2e tok/s':>10s} {'gen s/step':>10s} {'tok/step':>9s}  (median of {a.reps})")
            for s in sides:
                m = med[s]
                print(f"{'':{len(c) + 8}s} {s:15s} {m[c + '_steps_per_s']:10.3f} {m[c + '_gen_tok_per_s']:10.0f} {m[c + '_e2e_tok_per_s']:10.0f} {m[c + '_gen_s_per_step']:10.3f} {m['tokens_per_step']:9.0f}")
            for pair, r in ratio.items():
                print(f"  ratio {pair}: RL steps/s {r[c + '_steps_per_s']:.2f}  gen tok/s {r[c + '_gen_tok_per_s']:.2f}  e2e tok/s {r[c + '_e2e_tok_per_s']:.2f}")
            print(f"  per-rep engine/trl: RL steps/s {[round(v, 2) for v in per_rep[c + '_steps_per_s']]}  gen tok/s {[round(v, 2) for v in per_rep[c + '_gen_tok_per_s']]}")
        out["scales"][n] = {"setup": setup, "runs": rn, "median": med, "ratio": ratio, "per_rep_ratio": per_rep}
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
