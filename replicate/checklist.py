"""Fair-test checklists (issue 19): is this run able to show the effect a claim is about?

A verdict says something about a claim only if the run could have come out either way. Each
experiment module registers ``CHECKLIST`` beside ``THRESHOLDS``: a list of ``Item`` (name, what is
measured, pass condition, the claims it gates). Every run measures each item (``analyse`` passes a
``{name: value}`` dict) and the result stores them as ``result["checklist"]``:
``[{"item", "measures", "measured", "op", "threshold", "passed", "claims"}]``.

A claim whose checklist has a failing item is ``inconclusive`` with the reason
``not a fair test here (<item>, <measured value>)``, whatever its rule said (holds or does not
hold); the rule's own verdict is kept as ``claims[i]["rule_verdict"]``. An item with no
measurement (``None``: the run does not log it) fails as ``not measured``. An item registered with
``untestable`` (a reason) always fails: the claim is marked untestable at this scale.

    >>> items = [Item("control-learns", "GRPO accuracy gain, lower end of its t interval over seeds", ">", 0.0)]
    >>> claims = [{"id": "c", "verdict": "does-not-hold", "because": "x"}]
    >>> rows = apply(items, {"control-learns": -0.01}, claims)
    >>> claims[0]["verdict"], claims[0]["because"][:44]
    ('inconclusive', 'not a fair test here (control-learns, -0.01)')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

OPS = (">=", "<=", ">", "<", "within", "is")


@dataclass(frozen=True)
class Item:
    """One registered checklist item. ``threshold``: a number, ``[lo, hi]`` for ``within``, a bool for ``is``."""

    name: str
    measures: str
    op: str
    threshold: object
    claims: tuple = ()  # claim ids it gates; empty = every claim of the experiment
    untestable: str = ""  # non-empty: the mechanism cannot be made active at this scale (the reason)

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"checklist item {self.name}: op must be one of {OPS}")

    def passes(self, measured) -> bool:
        if self.untestable or measured is None or (isinstance(measured, float) and not math.isfinite(measured)):
            return False
        if self.op == "is":
            return bool(measured) is bool(self.threshold)
        if self.op == "within":
            lo, hi = self.threshold
            return lo <= measured <= hi
        return {">=": measured >= self.threshold, "<=": measured <= self.threshold, ">": measured > self.threshold, "<": measured < self.threshold}[self.op]

    def registered(self) -> dict:
        d = {"item": self.name, "measures": self.measures, "op": self.op, "threshold": list(self.threshold) if self.op == "within" else self.threshold, "claims": list(self.claims)}
        if self.untestable:
            d["untestable"] = self.untestable
        return d


def registered(items) -> list[dict]:
    """The checklist as stored in ``criterion.checklist`` (before the run)."""
    return [i.registered() for i in items]


def fmt(x) -> str:
    if x is None:
        return "not measured"
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        return f"{x:.3g}" if math.isfinite(x) else "not measured"
    return str(x)


def measure(items, measured: dict) -> list[dict]:
    """One row per item: the registered fields plus ``measured`` and ``passed``."""
    rows = []
    for it in items:
        v = measured.get(it.name)
        v = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        rows.append({**it.registered(), "measured": v, "passed": it.passes(v)})
    return rows


def failing(rows: list[dict], claim_id: str) -> list[dict]:
    return [r for r in rows if not r["passed"] and (not r["claims"] or claim_id in r["claims"])]


def why(row: dict) -> str:
    if row.get("untestable"):
        return f"{row['item']}, untestable at this scale: {row['untestable']}"
    return f"{row['item']}, {fmt(row['measured'])}"


def apply(items, measured: dict, claims: list[dict]) -> list[dict]:
    """Measure ``items`` and gate ``claims`` in place: a failing item makes its claims inconclusive.

    Returns the rows for ``result["checklist"]``. Each claim gets ``rule_verdict`` (what the rule
    alone said) and ``checklist`` ({"passed", "failed": [item names]}).
    """
    rows = measure(items, measured)
    for c in claims:
        bad = failing(rows, c["id"])
        c["rule_verdict"] = c["verdict"]
        c["checklist"] = {"passed": not bad, "failed": [r["item"] for r in bad]}
        if bad:
            c["verdict"] = "inconclusive"
            c["because"] = f"not a fair test here ({'; '.join(why(r) for r in bad)}); the rule alone said {c['rule_verdict']}: {c['because']}"
    return rows
