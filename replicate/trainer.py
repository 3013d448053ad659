"""The GRPO loop: rollouts -> rewards -> group advantages -> several clipped mini-batch updates.

Logged every step (one dict per step, passed to ``on_step``): reward/accuracy, policy entropy as
2505.22617 defines it (rollout batch, T=1, full vocabulary, seq-mean-token-mean), entropy per
token label (planning/execution), token-wise Cov(log pi, A) (Eq. 10), group covariances (Eq. 8-9),
the entropy of the *same* batch after the update with the Lemma-1 first-order prediction, response
length; per optimizer step the PPO clip fraction and approx KL (``clip_frac_updates``,
``approx_kl_updates``; their means ``clip_frac``, ``approx_kl``: see ``replicate.update``); validation
accuracy on held-out problems every ``val_every`` steps.

Defaults mirror the Entropy-Mechanism scripts (2505.22617 §2.2 / rl-methods §a.3.4): token-mean
loss, eps=0.2, no KL, no entropy bonus, uniform groups filtered from the update.

    python -c "from replicate.trainer import GRPOConfig; help(GRPOConfig)"
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from replicate.grpo import group_advantages, ppo_clip_token_loss
from replicate.metrics import (
    entropy_from_logits,
    group_covariance,
    lemma1_prediction,
    masked_mean,
    seq_mean_token_mean,
    token_covariance,
    token_logprobs,
    top_fraction_means,
)
from replicate.sampling import sample
from replicate.tasks import EXECUTION, PLANNING
from replicate.tokenizer import CharTokenizer
from replicate.update import minibatch_rows, policy_update, update_logits


@dataclass(frozen=True)
class GRPOConfig:
    steps: int = 20
    prompts_per_step: int = 8
    group_size: int = 8  # "256 prompts x 8 responses" (2505.22617 §4.3); G=8 also gives acc buckets 1/8..7/8
    lr: float = 1e-4  # 5e-7 at 7B in the paper; rescaled for a 0.1-4M model (rl-methods §a.4)
    mini_batches: int = 4  # optimizer steps per pass over the rollout batch, so rho != 1 after the first (§a.3)
    # passes over the rollout batch (verl ``ppo_epochs``, TRL ``num_iterations``): ppo_epochs x mini_batches
    # optimizer steps per rollout batch, all against logp_old from sampling time, so the policy moves off the
    # sampling policy and the PPO clip can bind (arXiv:1707.06347 §3 runs K epochs of minibatch SGD)
    ppo_epochs: int = 1
    # mini-batches of whole groups (each prompt run once per mini-batch, as verl's in-order split) or of
    # rows shuffled across groups (the engine before issue 19); see replicate/update.py
    shuffle: str = "groups"
    # rows with A = 0 on every token are not forwarded where the loss is exactly 0 there (PPO-clip family,
    # no KL); the loss value and gradient are unchanged (replicate/update.py)
    skip_zero_advantage: bool = True
    clip_low: float = 0.2  # "eps = 0.2" (2505.22617 §2.2)
    clip_high: float = 0.2
    loss_agg: str = "token-mean"  # loss_agg_mode=token-mean in the Entropy-Mechanism scripts
    scale_adv_by_std: bool = True  # GRPO; False = Dr.GRPO
    filter_uniform_groups: bool = True  # "prompts whose responses are all correct or all wrong are filtered"
    temperature: float = 1.0
    grad_clip: float = 1.0
    weight_decay: float = 0.0
    val_every: int = 4  # "validation every 4 rollout steps" (2505.22617 Fig. 3/4)
    val_problems: int = 128
    val_temperature: float = 1.0  # R = mean accuracy of T=1 samples per held-out problem (pass@1)
    # samples per held-out problem at each validation point: 4 x 256 problems puts the per-point SE
    # near 1.5 pp at R ~ 0.5, small enough to see the curve (issue 10)
    val_samples: int = 1
    # same-batch entropy after the update (delta_entropy, lemma1_*): one extra forward per step (~1/4 of a
    # cpu-scale step). Only the entropy-covariance test (2505.22617 Eq. 8-10 vs dH) reads it and turns it on
    measure_after: bool = False
    # old log-probs and entropies from the sampler's own logits instead of a second forward. Exact in
    # meaning: the rollout policy is the policy before the first mini-batch update (on-policy GRPO);
    # numerically equal to a recompute up to float rounding (~1e-6). False = recompute (the old path)
    old_logp_from_sampler: bool = True
    # ProRL (arXiv:2505.24864): a KL penalty to a reference policy (k3 estimator, per token, token-mean)
    # and a hard reset of that reference to the current policy, with fresh optimizer state, every
    # ``ref_reset_every`` steps; 0 = off. The reference starts as the base.
    kl_coef: float = 0.0
    ref_reset_every: int = 0
    # DAPO dynamic sampling (arXiv:2503.14476 Eq. 11, verl recipe/dapo): keep groups with reward std > 0 and
    # re-generate until prompts_per_step are kept or this many generation batches ran; 0 = off
    dynamic_sampling_batches: int = 0

    def __post_init__(self) -> None:
        if self.prompts_per_step * self.group_size < self.mini_batches:
            raise ValueError("mini_batches exceeds the rollout batch; lower mini_batches")
        if self.ppo_epochs < 1:
            raise ValueError("ppo_epochs must be >= 1")
        if self.shuffle not in ("groups", "rows"):
            raise ValueError("shuffle must be 'groups' or 'rows'")
        if self.val_every < 1:
            raise ValueError("val_every must be >= 1")

    def to_dict(self) -> dict:
        return asdict(self)


def at_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Logits of the policy the rollouts were sampled from: divided by the sampling temperature.

    The PPO ratio must compare log-probs of the distribution that generated the tokens (TRL
    ``GRPOTrainer`` and verl divide the logits by the rollout temperature before log_softmax); at
    T = 0.7 (RLCR) the T = 1 log-probs are a different policy (issue 11). T = 1 (and 0, greedy) = unchanged.
    Entropy stays measured at T = 1 (2505.22617's definition).
    """
    return logits if temperature in (0, 1, 1.0) else logits / temperature


def _bucket(acc: float) -> str | None:
    # prompt-accuracy buckets of 2505.22617 Fig. 8 right (0.125 / 0.5 / 0.875 at G=8)
    if 0 < acc <= 0.25:
        return "low"
    if 0.375 <= acc <= 0.625:
        return "mid"
    if 0.75 <= acc < 1:
        return "high"
    return None


@torch.no_grad()
def evaluate(model, task, problems, prompt_ids, *, temperature: float, generator, tok: CharTokenizer, n_samples: int = 1) -> tuple[float, float, list[int]]:
    """(accuracy, response entropy, correct samples per problem) of ``n_samples`` samples per problem."""
    if n_samples > 1:
        prompt_ids = prompt_ids.repeat_interleave(n_samples, 0)
        problems = [p for p in problems for _ in range(n_samples)]
    ro = sample(model, prompt_ids, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, temperature=temperature, generator=generator, keep_logits=True)
    resp = [tok.decode_response(r) for r in ro.response_ids.tolist()]
    correct = np.array([task.reward(p, r) for p, r in zip(problems, resp, strict=True)])
    acc = float(correct.mean())
    counts = correct.reshape(-1, n_samples).sum(1).astype(int).tolist()
    width = max(1, int(ro.lengths.max()))
    # the sampler's T=1 logits are the policy's logits at each response position (no second forward)
    ent = float(seq_mean_token_mean(entropy_from_logits(ro.logits[:, :width]), ro.response_mask[:, :width]))
    return acc, ent, counts


def train_grpo(model, task, cfg: GRPOConfig, *, seed: int, device: str, val_problems, on_step=None, token_loss_fn=ppo_clip_token_loss, loss_kwargs=None, token_advantage_fn=None, reward_fn=None, rollout_hook=None) -> list[dict]:
    """Run GRPO on ``model`` in place; returns the list of per-step records.

    Args:
        token_loss_fn: per-token loss variant (see ``replicate.grpo``); ``loss_kwargs`` extra args.
        token_advantage_fn: optional ``f(adv (B,), labels (B,T), mask) -> (B,T)`` credit map.
        on_step: called with each record as soon as it is complete (progress, JSONL).
        reward_fn: optional training reward ``f(completions, problems=...) -> list[float]`` (trl style);
            ``accuracy`` stays the task's exact-match reward. None = the task reward.
        rollout_hook: optional ``f(rec, batch)`` adding experiment-specific measurements of the rollout
            batch to ``rec``; ``batch`` holds problems, texts, rewards, labels, mask, old_logp, entropy.
    """
    tok = CharTokenizer()
    P, G = task.prompt_len, cfg.group_size
    rng = np.random.default_rng(seed + 1_000_003)
    gen = torch.Generator(device=device).manual_seed(seed)
    loss_kwargs = dict(clip_low=cfg.clip_low, clip_high=cfg.clip_high, **(loss_kwargs or {}))
    # fused: the same AdamW update in one kernel per step instead of a dozen foreach ops (CPU and CUDA)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99), fused=str(device).split(":")[0] in ("cpu", "cuda"))
    val_prompts = tok.encode_batch([p.prompt for p in val_problems], P, left_pad=True).to(device)
    exclude = {p.prompt for p in val_problems}
    train_hard = getattr(task, "train_hard", True)  # ModWalk keeps its hard subset out of RL (see its docstring)
    records = []
    ref, ref_logp = None, None  # ProRL reference policy (kl_coef > 0)
    for step in range(cfg.steps + 1):  # the last iteration only measures (no update)
        t0 = time.time()
        rec: dict = {"step": step}
        problems = []
        while len(problems) < cfg.prompts_per_step:
            problems += [p for p in task.sample_problems(rng, cfg.prompts_per_step) if p.prompt not in exclude and (train_hard or not p.hard)]
        problems = problems[: cfg.prompts_per_step]
        prompt_ids = tok.encode_batch([p.prompt for p in problems], P, left_pad=True).to(device).repeat_interleave(G, 0)
        from_sampler = cfg.old_logp_from_sampler and cfg.dynamic_sampling_batches == 0
        ro = sample(model, prompt_ids, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, temperature=cfg.temperature, generator=gen, keep_logits=from_sampler)
        width = max(1, int(ro.lengths.max()))
        resp_ids, mask = ro.response_ids[:, :width], ro.response_mask[:, :width]
        ids = torch.cat([prompt_ids, resp_ids], 1)
        texts = [tok.decode_response(r) for r in resp_ids.tolist()]
        rewards = torch.tensor([task.reward(problems[i // G], t) for i, t in enumerate(texts)], device=device)
        rec["rollouts_generated"] = len(texts)
        if cfg.dynamic_sampling_batches > 0:
            first = (problems, ids, mask, texts, rewards)
            keep = (rewards.view(-1, G).max(1).values > rewards.view(-1, G).min(1).values).repeat_interleave(G)
            parts = [(problems, ids[keep], keep.nonzero().squeeze(1), mask[keep], [t for t, k in zip(texts, keep.tolist(), strict=True) if k], rewards[keep])]
            for _ in range(cfg.dynamic_sampling_batches - 1):
                if sum(len(x[5]) for x in parts) >= cfg.prompts_per_step * G:
                    break
                more = [p for p in task.sample_problems(rng, cfg.prompts_per_step) if p.prompt not in exclude]
                pids = tok.encode_batch([p.prompt for p in more], P, left_pad=True).to(device).repeat_interleave(G, 0)
                r2 = sample(model, pids, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, temperature=cfg.temperature, generator=gen)
                t2 = [tok.decode_response(r) for r in r2.response_ids.tolist()]
                rw2 = torch.tensor([task.reward(more[i // G], t) for i, t in enumerate(t2)], device=device)
                rec["rollouts_generated"] += len(t2)
                k2 = (rw2.view(-1, G).max(1).values > rw2.view(-1, G).min(1).values).repeat_interleave(G)
                parts.append((more, r2.input_ids[k2], k2.nonzero().squeeze(1), r2.response_mask[k2], [t for t, k in zip(t2, k2.tolist(), strict=True) if k], rw2[k2]))
            # concatenate the kept groups (truncated to exactly prompts_per_step groups, as verl does)
            width = max(1, max(int(x[3].sum(1).max()) if len(x[5]) else 1 for x in parts))
            problems = [pr[int(i) // G] for pr, _, idx, _, _, rw in parts for i in idx[::G]][: cfg.prompts_per_step]
            n = len(problems) * G
            ids = torch.cat([torch.nn.functional.pad(x[1][:, : P + width], (0, max(0, P + width - x[1].shape[1])), value=tok.pad_id) for x in parts])[:n]
            mask = torch.cat([torch.nn.functional.pad(x[3][:, :width], (0, max(0, width - x[3].shape[1]))) for x in parts])[:n]
            resp_ids, texts, rewards = ids[:, P:], [t for x in parts for t in x[4]][:n], torch.cat([x[5] for x in parts])[:n]
            rec["dynamic_kept_groups"] = len(problems)
            if n == 0:  # nothing informative in any batch: measure on the first batch (no update follows)
                problems, ids, mask, texts, rewards = first
            resp_ids, width = ids[:, P:], mask.shape[1]
        train_rewards = torch.tensor(reward_fn(texts, problems=[problems[i // G] for i in range(len(texts))]), device=device, dtype=torch.float32) if reward_fn is not None else rewards
        adv = group_advantages(train_rewards, G, scale_by_std=cfg.scale_adv_by_std)
        labs = [task.token_labels(t + "$")[:width] for t in texts]  # zero-padded to width, one tensor built
        labels = torch.tensor([lab + [0] * (width - len(lab)) for lab in labs], dtype=resp_ids.dtype, device=device).view(len(texts), width)
        rec["rollout_s"] = time.time() - t0

        # ---- measurements on the rollout batch, before the update (T=1, eval mode) ----------
        model.eval()
        if from_sampler:  # the rollout policy's logits: no parameter changed since sampling
            logits_before = ro.logits[:, :width]
        else:
            with torch.no_grad():
                logits_before = update_logits(model, ids, P).float()
        old_logp = token_logprobs(at_temperature(logits_before, cfg.temperature), resp_ids)
        ent_tok = entropy_from_logits(logits_before)
        rec["reward"] = float(train_rewards.mean())
        rec["accuracy"] = float(rewards.mean())  # binary exact-match reward (== reward unless reward_fn)
        rec["entropy"] = float(seq_mean_token_mean(ent_tok, mask))
        for name, lab in (("planning", PLANNING), ("execution", EXECUTION)):
            m = mask * (labels == lab).float()
            rec[f"entropy_{name}"] = float(masked_mean(ent_tok, m)) if m.sum() > 0 else None
        rec["response_len"] = float(mask.sum(1).mean())
        if rollout_hook is not None:  # e.g. strategic-gram semantic entropy (two-phase, arXiv:2509.03646)
            rollout_hook(rec, {"problems": problems, "texts": texts, "rewards": rewards, "labels": labels, "mask": mask, "old_logp": old_logp, "entropy": ent_tok})
        adv_tok = adv[:, None].expand_as(old_logp) if token_advantage_fn is None else token_advantage_fn(adv, labels, mask)
        cov_tok = token_covariance(old_logp, adv_tok, mask)
        rec["cov_token"] = float(cov_tok.sum() / mask.sum())
        seq_lp = masked_mean(old_logp, mask, dim=1)  # length-normalised log pi(y|x)
        group_acc = rewards.view(-1, G).mean(1)
        keep_g = (train_rewards.view(-1, G).max(1).values > train_rewards.view(-1, G).min(1).values) if cfg.filter_uniform_groups else torch.ones_like(group_acc, dtype=torch.bool)
        c_pg = group_covariance(seq_lp, seq_lp.exp() * adv, G)  # Theorem 1 form, pi_bar * A
        c_npg = group_covariance(seq_lp, adv, G)  # Theorem 2 form
        rec["frac_uniform_groups"] = float(1 - ((group_acc > 0) & (group_acc < 1)).float().mean())
        rec["cov_group_pg"] = float(c_pg[keep_g].mean()) if keep_g.any() else 0.0
        rec["cov_group_npg"] = float(c_npg[keep_g].mean()) if keep_g.any() else 0.0
        for b in ("low", "mid", "high"):
            sel = [i for i, a in enumerate(group_acc.tolist()) if _bucket(a) == b]
            rec[f"cov_bucket_{b}_sum"] = float(c_npg[sel].sum()) if sel else 0.0
            rec[f"cov_bucket_{b}_n"] = len(sel)
        if step == 1:  # Table-1 style quantiles of the token covariance, once
            rec["cov_token_top"] = top_fraction_means(cov_tok[mask > 0])

        # ---- validation ----------------------------------------------------------------------
        if step % cfg.val_every == 0 or step == cfg.steps:
            acc, vent, counts = evaluate(model, task, val_problems, val_prompts, temperature=cfg.val_temperature, generator=gen, tok=tok, n_samples=cfg.val_samples)
            rec["val_accuracy"], rec["val_entropy"], rec["val_n"] = acc, vent, len(val_problems)
            if cfg.val_samples > 1:  # per-problem correct counts: the SE over problems is recomputable from the file
                rec["val_samples"], rec["val_counts"] = cfg.val_samples, counts
        if step == cfg.steps:
            rec["step_s"] = time.time() - t0
            records.append(rec)
            if on_step:
                on_step(rec)
            break

        # ---- update: ppo_epochs passes over the kept rows, `mini_batches` optimizer steps each ------
        t1 = time.time()
        model.train()
        if cfg.kl_coef > 0:
            if ref is None or (cfg.ref_reset_every and step > 0 and step % cfg.ref_reset_every == 0):
                if ref is not None:  # ProRL's reset: the reference jumps to the current policy, optimizer restarts
                    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
                    rec["ref_reset"] = True
                ref = copy.deepcopy(model).eval()
            with torch.no_grad():
                ref_logp = token_logprobs(at_temperature(update_logits(ref, ids, P).float(), cfg.temperature), resp_ids)
        chunks = minibatch_rows(keep_g, G, mini_batches=cfg.mini_batches, epochs=cfg.ppo_epochs, shuffle=cfg.shuffle, seed=seed * 7919 + step)
        infos, rec["rows_forwarded"] = policy_update(
            model, opt, chunks, ids=ids, prompt_len=P, resp_ids=resp_ids, old_logp=old_logp, adv_tok=adv_tok, mask=mask,
            temperature_fn=lambda x: at_temperature(x, cfg.temperature), token_loss_fn=token_loss_fn, agg=cfg.loss_agg,
            loss_kwargs=loss_kwargs, grad_clip=cfg.grad_clip, kl_coef=cfg.kl_coef, ref_logp=ref_logp, skip_zero_adv=cfg.skip_zero_advantage,
        )
        rec["updates"] = len(infos)
        # per optimizer step, for the fair-test checklist (does the clip bind once the policy has moved?)
        rec["clip_frac_updates"] = [i["clip_frac"] for i in infos if "clip_frac" in i]
        rec["approx_kl_updates"] = [i["approx_kl"] for i in infos if "approx_kl" in i]
        for k in ("loss", "clip_frac", "approx_kl", "grad_norm"):
            vals = [i[k] for i in infos if k in i]
            rec[k] = float(np.mean(vals)) if vals else 0.0
        for k in sorted({k for i in infos for k in i} - set(rec)):  # extra diagnostics of custom losses (replicate.losses)
            rec[k] = float(np.mean([i[k] for i in infos if k in i]))
        rec["update_s"] = time.time() - t1

        # ---- same batch after the update: actual entropy change vs Lemma 1 -----------------------
        if cfg.measure_after:
            model.eval()
            with torch.no_grad():
                logits_after = update_logits(model, ids, P).float()
            ent_after = entropy_from_logits(logits_after)
            rec["entropy_after"] = float(seq_mean_token_mean(ent_after, mask))
            rec["delta_entropy"] = rec["entropy_after"] - rec["entropy"]
            pred = lemma1_prediction(logits_before, logits_after)
            exact = (ent_after - ent_tok)[mask > 0]
            pred = pred[mask > 0]
            rec["lemma1_pred"] = float(seq_mean_token_mean(lemma1_prediction(logits_before, logits_after), mask))
            if exact.numel() > 2 and float(exact.std()) > 0:
                rec["lemma1_r2"] = float(1 - ((exact - pred) ** 2).sum() / ((exact - exact.mean()) ** 2).sum())
            else:
                rec["lemma1_r2"] = None
        rec["step_s"] = time.time() - t0
        records.append(rec)
        if on_step:
            on_step(rec)
    return records
