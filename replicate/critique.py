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
value. The refinement prompt has one fixed-width layout (issue 19): the attempt padded with blanks to
``max_response_len - 1`` characters, a critique of fixed width, ``|i=v>`` (``|0=C>`` if the attempt is
right, ``|i=.>`` if it should have stopped), then the original prompt (left-padded to its widest), so the
critique and the refinement sit at the same positions whatever the attempt was. The question comes last
so that the refinement stands where a direct answer stands, at the same offsets from the operands: with
the question first (pilot seed 100, 800 pretraining steps) the 0.39M base's refinements were right 9% of
the time even on easy problems, where it answers directly at 72%.

The task, ``CritiqueModChain``: ModChain mod m with chains of ``min_len..max_len`` steps (the cpu scale:
all 3 steps, mod 5). Hard problems (share ``hard_frac``, flagged ``hard``, in pretraining, in the RL
stream and in the held-out set) are the same length but one step uses the rare operator ``%``,
``a%b = (a + b + 1) mod m``, whose value the teacher never writes: it reads ``%`` as ``+`` and writes
``(a + b) mod m`` there (never a slip at that step, which could land on the true value), and no
pretraining refinement episode is built on a hard problem. As ModWalk's never-written move 7, only a
critique (``|i=v>`` at the ``%`` step) ever shows the value. With ``rare_above`` (the cpu scale since the
second 2026-12-07 registration) the true value is ((a + b) mod m) + m instead, a digit m..2m-1 that no direct
trace holds (a + b + 1 is a value every other step writes: the bases put ~0.003 on it and GRPO sampled it);
override critiques then name digits 0..2m-1, so the base can write such a digit after a critique naming it.

    >>> first_wrong_step([3, 1, 4], "3;2;4")
    (2, '1')
    >>> first_wrong_step([3, 1, 4], "3;1;4") is None, first_wrong_step([3, 1], "3;1;0")
    (True, (3, '.'))
    >>> CritiqueModChain(modulus=5, min_len=3, max_len=3).values_of("1%2*3+4:")
    [4, 2, 1]
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from replicate.grpo import aggregate_loss, group_advantages, ppo_clip_token_loss, response_logits
from replicate.metrics import entropy_from_logits, seq_mean_token_mean, token_logprobs
from replicate.rewards import zero_variance_groups
from replicate.sampling import sample
from replicate.tasks import EXECUTION, OTHER, Problem
from replicate.tasks.modchain import OPS, split_chain
from replicate.tokenizer import PAD, CharTokenizer
from replicate.trainer import at_temperature

GAMMA = 0.1  # "off_policy_reshape = p_div_p_0.1"; App. F gamma ~ 0.1 (2506.03106, claim critique-breaks-plateau)
RARE = "%"  # the operator whose value the teacher never writes (issue 19; ModWalk's move 7)
BLANK = " "  # pads the attempt to a fixed width in the refinement prompt


def apply_op(op: str, a: int, b: int, m: int, rare_above: bool = False) -> int:
    """One step; ``%`` is a + b + 1 (the true value of the rare operator), or with ``rare_above``
    ((a + b) mod m) + m, a digit m..2m-1 that no direct trace ever holds (issue 19 re-registration).

    >>> apply_op(RARE, 3, 4, 5), apply_op(RARE, 3, 4, 5, rare_above=True), apply_op("+", 7, 1, 5)
    (3, 7, 3)
    """
    if op == RARE and rare_above:
        return (a + b) % m + m
    return {"+": a + b, "-": a - b, "*": a * b, RARE: a + b + 1}[op] % m


def first_wrong_step(values: list[int], attempt: str) -> tuple[int, str] | None:
    """(1-based index, correct value or '.' = stop) of the first wrong step; None if all right."""
    steps = attempt.rstrip("$").split(";") if attempt.rstrip("$") else []
    for i, v in enumerate(values):
        if i >= len(steps) or steps[i] != str(v):
            return i + 1, str(v)
    if len(steps) > len(values):
        return len(values) + 1, "."
    return None


def hint(step: int | None, value: str, slots: int, width: int = 1) -> str:
    """The step hint in slots laid out as a response: ``value`` in slot ``step`` (1-based), '.' elsewhere.

    >>> hint(2, "4", 3), hint(None, "C", 3), hint(None, ".", 3)
    ('|.;4;.>', '|C;C;C>', '|.;.;.>')
    """
    cells = [(value if step is None else ".").rjust(width) for _ in range(slots)]
    if step is not None:
        cells[step - 1] = value.rjust(width)
    return "|" + ";".join(cells) + ">"


def critique_text(values: list[int], attempt: str, slots: int | None = None, width: int = 1) -> str:
    """The first wrong step's correct value in its slot (``|.;v;.>``); ``|C;C;C>`` for a correct attempt,
    ``|.;.;.>`` for one that should have stopped. Fixed width: ``slots`` (default ``len(values)``)."""
    n = slots or len(values)
    fw = first_wrong_step(values, attempt)
    if fw is None:
        return hint(None, "C", n, width)
    return hint(None, ".", n, width) if fw[1] == "." else hint(fw[0], fw[1], n, width)


@dataclass
class CritiqueModChain:
    """ModChain with the rare-operator hard subset and the fixed-width refinement layout (module docstring);
    pretraining mixes in refinement episodes (rl-methods §0.3 "[attempt] CRITIQUE: ... [refinement]") on
    easy problems when ``refine_frac`` > 0."""

    modulus: int = 5
    min_len: int = 2
    max_len: int = 5
    eps_exec: float = 0.15
    eps_attempt: float = 0.35  # slip rate of the attempts shown in refinement episodes (mostly wrong)
    refine_frac: float = 0.0  # share of pretraining problems that are refinement episodes
    hard_frac: float = 0.0  # share of problems with one rare-operator step (0 = no hard subset)
    # pretraining only (like refine_frac): share of refinement episodes whose critique names another value
    # than the true one, which the teacher writes and carries on from. With ground-truth critiques only, a
    # critique's value on an easy problem is what the base computes anyway, so the base never learns to put
    # the critique's value over its own (pilot seed 100: refinements on hard problems right 0.2-1.4%); these
    # episodes teach it to follow a critique against a confident habit, on every operator. No episode is
    # built on a hard problem, so none shows a '%' value.
    override_frac: float = 0.0
    # issue 19 re-registration (2026-12-07 22:30 UTC): the '%' step's true value is ((a + b) mod m) + m, a digit
    # m..2m-1 outside the mod-m values every direct trace holds (with a + b + 1 the pilot/confirmatory bases
    # put 0.003 on it and plain GRPO found it by sampling on 2 of 5 seeds). The later steps equal the habit's
    # (they reduce mod m). Override critiques then name any digit 0..2m-1 but the true one, so the base learns
    # to write a critique's value m..2m-1 (only ever after a critique naming it).
    rare_above: bool = False
    name: str = "modchain-critique"
    distinct_heldout = True  # the held-out set is N distinct prompts (SE over N problems)

    def __post_init__(self) -> None:
        if not 1 <= self.min_len <= self.max_len <= 8:
            raise ValueError("need 1 <= min_len <= max_len <= 8 (one-digit step index in the critique)")
        if self.rare_above and self.modulus > 5:
            raise ValueError("rare_above needs modulus <= 5 (values 0..2m-1 are one digit)")
        self.w = len(str(self.modulus - 1))
        self.base_prompt_len = (self.max_len + 1) * (self.w + 1)
        self.max_response_len = self.max_len * (self.w + 1)
        self.attempt_width = self.max_response_len - 1
        self.critique_width = self.max_len * (self.w + 1) + 1
        self.prompt_len = self.base_prompt_len + self.attempt_width + self.critique_width

    # ---- problems ----------------------------------------------------------------------------
    @staticmethod
    def steps_of(prompt: str) -> tuple[int, list[tuple[str, int]]]:
        return split_chain(prompt.lstrip(PAD).rstrip(":"), OPS + RARE)

    def values_of(self, prompt: str) -> list[int]:
        v, steps = self.steps_of(prompt)
        out = []
        for op, x in steps:
            v = apply_op(op, v, x, self.modulus, self.rare_above)
            out.append(v)
        return out

    def values(self, problem: Problem) -> list[int]:
        return self.values_of(problem.meta.get("base_prompt", problem.prompt))

    def draw(self, rng, n: int) -> list[Problem]:
        """Direct problems; a hard one has the same length as an easy one and one ``%`` step."""
        out = []
        for _ in range(n):
            hard = bool(self.hard_frac) and rng.random() < self.hard_frac
            k = int(rng.integers(self.min_len, self.max_len + 1))
            xs = rng.integers(0, self.modulus, size=k + 1)
            ops = [str(o) for o in rng.choice(list(OPS), size=k)]
            if hard:
                ops[int(rng.integers(0, k))] = RARE
            prompt = str(xs[0]) + "".join(f"{o}{x}" for o, x in zip(ops, xs[1:], strict=True)) + ":"
            out.append(Problem(prompt=prompt, answer=self.values_of(prompt)[-1], hard=hard))
        return out

    def refinement_prompt(self, problem: Problem, attempt: str, critique: str | None = None) -> str:
        """``<attempt, blank-padded><critique><prompt, left-padded>``, every part at a fixed width."""
        attempt = attempt.rstrip("$")
        crit = critique or critique_text(self.values(problem), attempt, self.max_len, self.w)  # of the whole attempt
        shown = attempt[: self.attempt_width].ljust(self.attempt_width, BLANK)
        return shown + crit + problem.prompt.rjust(self.base_prompt_len, PAD)

    def _episode(self, p: Problem, rng) -> Problem:
        """A pretraining refinement episode on easy problem ``p`` (module docstring; ``override_frac``)."""
        attempt = self.trace(p.prompt, rng, self.eps_attempt).rstrip("$")
        meta = {"base_prompt": p.prompt, "attempt": attempt}
        crit = None
        if self.override_frac and rng.random() < self.override_frac:
            vals = self.values(p)
            fw = first_wrong_step(vals, attempt)
            i = fw[0] - 1 if fw and fw[1] != "." else int(rng.integers(0, len(vals)))
            # another value than the true one: any digit 0..m-1, or with rare_above 0..2m-1 (so m..2m-1 are
            # written after a critique)
            span = 2 * self.modulus if self.rare_above else self.modulus
            v = (vals[i] + int(rng.integers(1, span))) % span
            crit, meta["told"] = hint(i + 1, str(v), self.max_len, self.w), (i, v)
        return Problem(prompt=self.refinement_prompt(p, attempt, crit), answer=p.answer, meta=meta)

    def sample_problems(self, rng, n: int) -> list[Problem]:
        out = []
        for p in self.draw(rng, n):
            if self.refine_frac and not p.hard and rng.random() < self.refine_frac:
                out.append(self._episode(p, rng))
            else:
                out.append(p)
        return out

    # ---- teacher -----------------------------------------------------------------------------
    def trace(self, prompt: str, rng, eps: float, start: list[int] | None = None) -> str:
        """The teacher's chain: slips (value + 2..m-1, never + 1) with probability ``eps`` per step, later
        steps follow from a slip; a ``%`` step is written as ``+`` (never its true value a + b + 1, never a
        slip). ``start``: values kept."""
        v, steps = self.steps_of(prompt)
        out = list(start or [])
        v = out[-1] if out else v
        for op, x in steps[len(out) :]:
            if op == RARE:
                v = apply_op("+", v, x, self.modulus)
            else:
                v = apply_op(op, v, x, self.modulus)
                if rng.random() < eps:  # a slip is never +1: else '%' (read as '+') would inherit a+b+1 from it
                    v = (v + int(rng.integers(2, self.modulus))) % self.modulus
            out.append(v)
        return ";".join(str(x) for x in out) + "$"

    def teacher_trace(self, problem: Problem, rng) -> str:
        if "attempt" not in problem.meta:
            return self.trace(problem.prompt, rng, self.eps_exec)
        vals = self.values(problem)
        if "told" in problem.meta:  # the critique named another value: the teacher follows it
            i, v = problem.meta["told"]
            return self.trace(problem.meta["base_prompt"], rng, self.eps_exec, start=vals[:i] + [v])
        fw = first_wrong_step(vals, problem.meta["attempt"])
        if fw is None:  # a correct attempt is copied
            return problem.meta["attempt"] + "$"
        i = fw[0] - 1  # keep the right prefix, write the revealed value, carry on (with slips) from it
        return self.trace(problem.meta["base_prompt"], rng, self.eps_exec, start=vals[: i + 1])

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


@torch.no_grad()
def rare_value_probe(model, task, problems, device: str = "cpu") -> dict:
    """The base's probability of the true ``%`` value at the ``%`` step given the right prefix (T = 1) over
    the hard ``problems``: mean and max, and (``rare_above``) the mass on the other digits m..2m-1. Checklist
    plateau-premise: GRPO's ~7,000 hard samples at T = 1 draw a value the base puts p on about 7,000 p times."""
    tok = CharTokenizer()
    p_true, p_above = [], []
    for p in [q for q in problems if q.hard]:
        vals, (_, steps) = task.values(p), task.steps_of(p.prompt)
        j = [op for op, _ in steps].index(RARE)
        prefix = torch.tensor([tok.encode("".join(f"{v};" for v in vals[:j]))], dtype=torch.long)
        ids = torch.cat([tok.encode_batch([p.prompt], task.prompt_len, left_pad=True), prefix], 1).to(device)
        probs = torch.softmax(model(input_ids=ids).logits[0, -1].float(), -1)
        p_true.append(float(probs[tok.stoi[str(vals[j])]]))
        p_above.append(sum(float(probs[tok.stoi[str(d)]]) for d in range(task.modulus, 2 * task.modulus) if d != vals[j]))
    if not p_true:
        return {"n": 0, "p_true_mean": None, "p_true_max": None, "p_above_mean": None}
    return {"n": len(p_true), "p_true_mean": float(np.mean(p_true)), "p_true_max": float(np.max(p_true)), "p_above_mean": float(np.mean(p_above)) if task.rare_above else None}


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
        hard = np.array([p.hard for p in problems])
        rec["frac_hard"] = float(hard.mean())  # hard prompts in the RL stream (checklist hard-in-rl)
        rec["accuracy_hard"] = float(r_init[hard].mean()) if hard.any() else None
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
            # refinements on hard prompts can be right only through the critique (checklist refinements-can-be-right)
            rec["refine_accuracy_hard"] = float(r_ref[hard].mean()) if hard.any() else None
            rec["refine_accuracy_easy"] = float(r_ref[~hard].mean()) if (~hard).any() else None
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
