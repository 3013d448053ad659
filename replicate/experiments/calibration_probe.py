"""Does the calibration base's stated digit follow the answer it wrote? (checklist `base-digit-follows-answer`)

Issue 19 review of c505046: if the digit depends on the prompt only, an RLVR fix of the teacher's habit
leaves the items' low digits behind and ECE rises whatever RL does to the digits (the verdict is fixed by the
design). The probe teacher-forces, on the held-out items where the habit changes the trace, the habit
trace (``habit_values``: the habit applied, no slips) and the true trace, then reads the greedy digit after '|'. A base whose
digit follows its answer states ~0.05 after the habit trace and ~0.95 after the true one; a prompt-only base
states the same digit after both. Used by ``calibration.py`` (records ``probe:base`` in metrics.jsonl):

    python -m replicate run calibration --scale cpu --seeds 1 --pilot --out /tmp/cal-pilot
"""

from __future__ import annotations

import numpy as np
import torch

from replicate.tokenizer import CharTokenizer


@torch.no_grad()
def forced_digits(model, task, problems, device: str) -> dict:
    """Per habit-affected item: the greedy digit after the habit trace and after the true trace (None if no such item)."""
    items = [p for p in problems if task.habit_values(p.prompt) != task.mc._values(p.prompt.lstrip("?."))]
    tok = CharTokenizer()
    digit_ids = [tok.encode(str(d))[0] for d in range(10)]
    out = {"n": len(items)}
    for name, values in (("habit", task.habit_values), ("true", lambda pr: task.mc._values(pr.lstrip("?.")))):
        if not items:
            out[name] = []
            continue
        ids = tok.encode_batch([p.prompt for p in items], task.prompt_len, left_pad=True)
        resp = torch.tensor([tok.encode(";".join(map(str, values(p.prompt))) + "|") for p in items])
        logits = model(torch.cat([ids, resp], 1).to(device)).logits[:, -1]
        out[name] = [int(d) for d in logits[:, digit_ids].argmax(-1).tolist()]
    return out


def follows(rec: dict | None) -> float | None:
    """Mean stated q after the true trace minus after the habit trace (~0.9 if the digit follows the answer, 0 if not)."""
    if not rec or not rec.get("true"):
        return None
    q = lambda ds: float(np.mean([(d + 0.5) / 10 for d in ds]))  # noqa: E731
    return q(rec["true"]) - q(rec["habit"])
