"""Split a policy's token entropy into *choice* (among equally-correct continuations) and *noise*.

Issue 19: on the first cpu-scale ModWalk ~59% of the starting entropy was the teacher's state
slips, so "entropy" partly measured error, and accuracy was nearly linear in it by construction.
For each sampled response token the task names the set C of next characters from which a correct
response can still be completed (``task.continuations(problem, prefix)``). With p_C = pi(C), the
token's entropy decomposes exactly (grouping rule of Shannon entropy)::

    H(pi) = p_C * H(pi | C)                        choice: spread over equally-correct options
          + H_b(p_C) + (1 - p_C) * H(pi | not C)   noise: mass on, and spread over, wrong tokens

Once a prefix is wrong, C is empty and the whole token entropy is noise. Aggregation follows the
trainer's policy entropy (2505.22617: token mean within a response, then mean over responses), so
``h`` here equals the logged step-0 entropy up to sampling.

    python -c "from replicate.decomposition import entropy_parts; help(entropy_parts)"
"""

from __future__ import annotations

import numpy as np
import torch

from replicate.sampling import sample
from replicate.tasks.base import LABEL_NAMES
from replicate.tokenizer import CharTokenizer


def split_entropy(probs: np.ndarray, choice_ids: list[int]) -> tuple[float, float]:
    """(choice, noise) nats of one next-token distribution ``probs`` given the correct ids.

    >>> c, n = split_entropy(np.array([0.5, 0.5, 0.0]), [0, 1])
    >>> round(c, 4), round(n, 4)
    (0.6931, 0.0)
    """
    p = np.clip(probs.astype(np.float64), 0.0, 1.0)
    p = p / p.sum()
    inset = np.zeros_like(p, dtype=bool)
    inset[list(choice_ids)] = True

    def h(q):
        q = q[q > 0]
        return float(-(q * np.log(q)).sum())

    pc = float(p[inset].sum())
    choice = pc * h(p[inset] / pc) if pc > 0 else 0.0
    hb = h(np.array([pc, 1.0 - pc]))
    noise = hb + ((1.0 - pc) * h(p[~inset] / (1.0 - pc)) if pc < 1.0 else 0.0)
    return choice, noise


@torch.no_grad()
def entropy_parts(model, task, problems, *, n_samples: int = 4, device: str = "cpu", seed: int = 0) -> dict:
    """Sample ``n_samples`` responses per problem at T=1 and decompose their token entropy.

    Returns ``h`` (seq-mean-token-mean entropy), ``choice``, ``noise`` (same aggregation, they sum to
    ``h``), ``choice_share`` = choice / h, the same by token class (planning/execution/other: token
    means over the class), and the accuracy of the samples.
    """
    tok = CharTokenizer()
    prompts = tok.encode_batch([p.prompt for p in problems], task.prompt_len, left_pad=True).to(device)
    prompts = prompts.repeat_interleave(n_samples, 0)
    g = torch.Generator(device=device).manual_seed(seed)
    ro = sample(model, prompts, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, generator=g, keep_logits=True)
    probs = torch.softmax(ro.logits.float(), -1).cpu().numpy()
    resp_ids = ro.response_ids.tolist()
    mask = ro.response_mask.cpu().numpy()
    per_resp, by_class, correct = [], {}, []
    for r, ids in enumerate(resp_ids):
        prob = problems[r // n_samples]
        text = tok.decode_response(ids)
        correct.append(task.reward(prob, text))
        labels = task.token_labels(text)
        parts = []
        for t in range(int(mask[r].sum())):
            prefix = text[:t]
            ok = task.continuations(prob, prefix) if len(prefix) == t else set()
            ids_ok = [tok.encode(c)[0] for c in ok]
            c, n = split_entropy(probs[r, t], ids_ok)
            parts.append((c, n))
            lab = LABEL_NAMES[labels[t]] if t < len(labels) else "other"
            by_class.setdefault(lab, []).append((c, n))
        if parts:
            per_resp.append(np.mean(parts, axis=0))
    choice, noise = (float(x) for x in np.mean(per_resp, axis=0))
    out = {"h": choice + noise, "choice": choice, "noise": noise, "choice_share": choice / (choice + noise) if choice + noise > 0 else None,
           "accuracy": float(np.mean(correct)), "n_responses": len(per_resp)}  # fmt: skip
    for lab, v in by_class.items():
        c, n = np.mean(v, axis=0)
        out[f"{lab}_h"], out[f"{lab}_choice"], out[f"{lab}_noise"] = float(c + n), float(c), float(n)
    return out
