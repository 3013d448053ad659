"""Critique-GRPO (arXiv:2506.03106) on ModChain: ground-truth step critiques, refinements, policy shaping.

Semantics follow the authors' code (zhangxy-2019/critique-GRPO @e8f03a2, rl-methods §g), where the
paper's latest text and the code disagree (rl-methods "Not verified"):

- a refinement is generated for **every** initial response (code), not only for all-wrong groups
  (paper); per group the **first correct** refinement is kept, else the first one
  (``critique_vllm_rollout_spmd.py::process_refinement_groups``); group = n_init + 1 ("rollout7_critique_1");
- advantages over the union of initial and refined rewards **with** std normalisation (the code's GRPO
  estimator keeps it unless ``norm_adv_by_std_in_grpo=False``; the paper drops it);
- refined tokens are trained as a response to the *original* question with the shaping function
  pi/(pi + gamma), gamma = 0.1 (``off_policy_reshape="p_div_p_0.1"``), no ratio, no clipping; initial
  tokens use PPO-clip; both combined per token and token-mean aggregated (``prefix_mask``).

The critique is the step hint of rl-methods E-g: the first wrong intermediate value and its correct
value, ``<prompt><attempt>|<i>=<v>>`` (``|C>`` if the attempt is right, ``|i=.>`` if it should stop).

    >>> first_wrong_step([3, 1, 4], "3;2;4")
    (2, '1')
    >>> first_wrong_step([3, 1, 4], "3;1;4") is None, first_wrong_step([3, 1], "3;1;0")
    (True, (3, '.'))
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from replicate.grpo import aggregate_loss, group_advantages, ppo_clip_token_loss, response_logits
from replicate.metrics import entropy_from_logits, seq_mean_token_mean, token_logprobs
from replicate.rewards import zero_variance_groups
from replicate.sampling import sample
from replicate.tasks import EXECUTION, OTHER, ModChain, Problem
from replicate.tokenizer import CharTokenizer
from replicate.trainer import at_temperature

GAMMA = 0.1  # "off_policy_reshape = p_div_p_0.1"; App. F gamma ~ 0.1 (2506.03106, claim critique-breaks-plateau)


def first_wrong_step(values: list[int], attempt: str) -> tuple[int, str] | None:
    """(1-based index, correct value or '.' = stop) of the first wrong step; None if all right."""
    steps = attempt.rstrip("$").split(";") if attempt.rstrip("$") else []
    for i, v in enumerate(values):
        if i >= len(steps) or steps[i] != str(v):
            return i + 1, str(v)
    if len(steps) > len(values):
        return len(values) + 1, "."
    return None


def critique_text(values: list[int], attempt: str) -> str:
    """``|i=v>`` (step hint) or ``|C>`` for a correct attempt."""
    fw = first_wrong_step(values, attempt)
    return "|C>" if fw is None else f"|{fw[0]}={fw[1]}>"


@dataclass
class CritiqueModChain:
    """ModChain whose prompts are padded to fit ``<prompt><attempt><critique>``; pretraining mixes in
    refinement episodes (rl-methods §0.3 "[attempt] CRITIQUE: ... [refinement]") when ``refine_frac`` > 0."""

    modulus: int = 5
    min_len: int = 2
    max_len: int = 5
    eps_exec: float = 0.15
    eps_attempt: float = 0.35  # slip rate of the attempts shown in refinement episodes (mostly wrong)
    refine_frac: float = 0.0  # share of pretraining problems that are refinement episodes
    # non-transferable hard subset (issue 11; ModChain's own docstring): chains of hard_len > max_len steps.
    # The teacher never writes a value past step max_len (its hard traces stop there, and no refinement
    # episode is built on a hard chain), so neither pretraining nor RL on the easy chains shows step max_len+1;
    # only a critique ("|max_len+1=v>") ever reveals such a value. None / 0 = no hard subset (smoke).
    hard_len: int | None = None
    hard_frac: float = 0.0
    name: str = "modchain-critique"
    distinct_heldout = True  # the held-out set is N distinct prompts (SE over N problems)
    mc: ModChain = field(init=False, repr=False)

    def __post_init__(self) -> None:
        hard_len = self.hard_len or self.max_len
        self.mc = ModChain(modulus=self.modulus, min_len=self.min_len, max_len=self.max_len, hard_len=hard_len, hard_frac=self.hard_frac if hard_len > self.max_len else 0.0, eps_exec=self.eps_exec)
        self.max_response_len = self.mc.max_response_len
        self.prompt_len = self.mc.prompt_len + self.mc.max_response_len + len(f"|{hard_len + 1}={self.modulus - 1}>")

    def values(self, problem: Problem) -> list[int]:
        return self.mc._values(problem.meta.get("base_prompt", problem.prompt))

    def refinement_prompt(self, problem: Problem, attempt: str) -> str:
        attempt = attempt.rstrip("$")[: self.max_response_len - 1]
        return problem.prompt + attempt + critique_text(self.values(problem), attempt)

    def sample_problems(self, rng, n: int) -> list[Problem]:
        out = []
        for p in self.mc.sample_problems(rng, n):
            if self.refine_frac and rng.random() < self.refine_frac and not p.hard:
                attempt = ModChain(modulus=self.modulus, max_len=self.max_len, hard_len=self.max_len, hard_frac=0.0, eps_exec=self.eps_attempt).teacher_trace(p, rng)
                out.append(Problem(prompt=self.refinement_prompt(p, attempt), answer=p.answer, meta={"base_prompt": p.prompt, "attempt": attempt.rstrip("$")}))
            else:
                out.append(Problem(prompt=p.prompt, answer=p.answer, hard=p.hard))
        return out

    def teacher_trace(self, problem: Problem, rng) -> str:
        vals = self.values(problem)
        if "attempt" not in problem.meta:
            return self.mc.teacher_trace(Problem(prompt=problem.prompt, answer=0), rng)
        fw = first_wrong_step(vals, problem.meta["attempt"])
        if fw is None:  # a correct attempt is copied
            return problem.meta["attempt"] + "$"
        i = fw[0] - 1  # keep the right prefix, use the revealed value, carry on (with slips) from it
        out, steps = vals[:i] + ([vals[i]] if i < len(vals) else []), self.mc._steps(problem.meta["base_prompt"])[1]
        v = out[-1] if out else None
        for op, x in steps[len(out) :]:
            v = {"+": v + x, "-": v - x, "*": v * x}[op] % self.modulus
            if rng.random() < self.eps_exec:
                v = (v + int(rng.integers(1, self.modulus))) % self.modulus
            out.append(v)
        return ";".join(str(x) for x in out) + "$"

    def reward(self, problem: Problem, response: str) -> float:
        return 1.0 if response.rstrip("$") == ";".join(str(v) for v in self.values(problem)) else 0.0

    def token_labels(self, response: str) -> list[int]:
        return [OTHER if c in ";$" else EXECUTION for c in response]


def shaped_token_loss(logp: torch.Tensor, adv: torch.Tensor, gamma: float = GAMMA) -> torch.Tensor:
    """-A * pi/(pi + gamma) per token (Critique-GRPO J_refi; no ratio, no clip).

    >>> lp = torch.log(torch.tensor([0.1]))
    >>> round(float(shaped_token_loss(lp, torch.tensor([2.0]))), 4)
    -1.0
    """
    p = logp.exp()
    return -adv * p / (p + gamma)


@torch.no_grad()
def _val(model, task, problems, tok, gen, device, n_samples: int = 1) -> dict:
    """T=1 validation: accuracy, correct samples per problem (``counts``) and accuracy on the hard/easy parts."""
    ids = tok.encode_batch([p.prompt for p in problems], task.prompt_len, left_pad=True).to(device).repeat_interleave(n_samples, 0)
    ro = sample(model, ids, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, generator=gen)
    texts = [tok.decode_response(r) for r in ro.response_ids.tolist()]
    correct = np.array([task.reward(problems[i // n_samples], t) for i, t in enumerate(texts)]).reshape(len(problems), n_samples)
    hard = np.array([p.hard for p in problems])
    out = {"val_accuracy": float(correct.mean()), "val_counts": correct.sum(1).astype(int).tolist(), "val_samples": n_samples}
    for name, sel in (("hard", hard), ("easy", ~hard)):
        out[f"val_accuracy_{name}"] = float(correct[sel].mean()) if sel.any() else None
    return out


def train_critique_grpo(model, task, cfg, *, critique: bool, seed: int, device: str, val_problems, on_step=None, gamma: float = GAMMA) -> list[dict]:
    """GRPO (``critique=False``: G initial responses) or Critique-GRPO (G-1 initial + 1 refinement)."""
    tok = CharTokenizer()
    P, G = task.prompt_len, cfg.group_size
    n_init = G - 1 if critique else G
    rng = np.random.default_rng(seed + 1_000_003)
    gen = torch.Generator(device=device).manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    exclude = {p.prompt for p in val_problems}
    records = []
    for step in range(cfg.steps + 1):
        t0 = time.time()
        rec: dict = {"step": step}
        problems = [p for p in task.sample_problems(rng, 2 * cfg.prompts_per_step) if p.prompt not in exclude][: cfg.prompts_per_step]
        pids = tok.encode_batch([p.prompt for p in problems], P, left_pad=True).to(device)
        ro = sample(model, pids.repeat_interleave(n_init, 0), max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, temperature=cfg.temperature, generator=gen)
        texts = [tok.decode_response(r) for r in ro.response_ids.tolist()]
        r_init = np.array([task.reward(problems[i // n_init], t) for i, t in enumerate(texts)]).reshape(-1, n_init)
        rec["accuracy"] = float(r_init.mean())
        rec["frac_all_wrong"] = float((r_init.sum(1) == 0).mean())  # persistently failed at pass@n_init (rl-methods E-g)
        rec["rollouts_generated"] = len(texts)
        resp = ro.response_ids.view(len(problems), n_init, -1)
        rmask = ro.response_mask.view(len(problems), n_init, -1)
        rows, masks, rews, is_ref = [], [], [], []
        if critique:
            rp = tok.encode_batch([task.refinement_prompt(problems[i // n_init], t) for i, t in enumerate(texts)], P, left_pad=True).to(device)
            rr = sample(model, rp, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, temperature=cfg.temperature, generator=gen)
            rt = [tok.decode_response(r) for r in rr.response_ids.tolist()]
            r_ref = np.array([task.reward(problems[i // n_init], t) for i, t in enumerate(rt)]).reshape(-1, n_init)
            rec["rollouts_generated"] += len(rt)
            rec["refine_accuracy"] = float(r_ref.mean())
            pick = r_ref.argmax(1)  # first correct refinement, else the first (binary reward)
        for g in range(len(problems)):
            for j in range(n_init):
                rows.append(resp[g, j]), masks.append(rmask[g, j]), rews.append(r_init[g, j]), is_ref.append(False)
            if critique:
                k = g * n_init + int(pick[g])
                rows.append(rr.response_ids[k]), masks.append(rr.response_mask[k]), rews.append(r_ref[g, pick[g]]), is_ref.append(True)
        width = max(1, int(torch.stack(masks).sum(1).max()))
        resp_ids, mask = torch.stack(rows)[:, :width], torch.stack(masks)[:, :width]
        ids = torch.cat([pids.repeat_interleave(G, 0), resp_ids], 1)  # refinements scored as answers to the original prompt
        rewards = torch.tensor(rews, dtype=torch.float32, device=device)
        is_ref = torch.tensor(is_ref, device=device)
        adv = group_advantages(rewards, G, scale_by_std=cfg.scale_adv_by_std)  # union of initial + refined
        model.eval()
        with torch.no_grad():
            logits = response_logits(model, ids, P).float()
        old_logp = token_logprobs(at_temperature(logits, cfg.temperature), resp_ids)  # scored at the sampling T
        rec["reward"] = float(rewards.mean())
        rec["entropy"] = float(seq_mean_token_mean(entropy_from_logits(logits)[~is_ref], mask[~is_ref]))
        keep = ~zero_variance_groups(rewards, G)
        rec["frac_uniform_groups"] = float(1 - keep.float().mean())
        if step % cfg.val_every == 0 or step == cfg.steps:
            rec.update(_val(model, task, val_problems, tok, gen, device, cfg.val_samples))
        if step < cfg.steps:
            model.train()
            sel = keep.repeat_interleave(G).nonzero().squeeze(1)
            sel = sel[torch.randperm(sel.numel(), generator=torch.Generator().manual_seed(seed * 7919 + step)).to(device)]
            losses = []
            for chunk in sel.tensor_split(cfg.mini_batches) if sel.numel() else []:
                if chunk.numel() == 0:
                    continue
                lp = token_logprobs(at_temperature(response_logits(model, ids[chunk], P), cfg.temperature), resp_ids[chunk])
                a = adv[chunk][:, None].expand_as(lp)
                on, _ = ppo_clip_token_loss(lp, old_logp[chunk], a, mask[chunk], clip_low=cfg.clip_low, clip_high=cfg.clip_high)
                per_tok = torch.where(is_ref[chunk][:, None], shaped_token_loss(lp, a, gamma), on)  # pg = off*mask + on*(1-mask)
                loss = aggregate_loss(per_tok, mask[chunk], cfg.loss_agg)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                opt.step()
                losses.append(loss.item())
            rec["loss"] = float(np.mean(losses)) if losses else 0.0
            rec["updates"] = len(losses)
        rec["step_s"] = time.time() - t0
        records.append(rec)
        if on_step:
            on_step(rec)
    return records
