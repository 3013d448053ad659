"""The re-test axis (issue 18): our current replication verdict on a claim, worded for what it is.

A claim has two axes. Its *literature status* (``claimtrack.graph.status``) comes from papers,
curators and in-scope replications; its *re-test* is what our own replication runs say, with the
scale and model size they ran at. The re-test is shown beside the status everywhere (board,
claim page, inquiry read, research prompt, exports, ``show``/``claims --json``), always in the
words of ``retest_label``:

    reproduced at toy scale (0.39M, ModWalk, 3 seeds; fairness not assessed)
    not reproduced in scope (7.6B, DAPO-Math, 5 seeds)
    undecided (preconditions unmet: control_learned)
    not a fair test here (clip-binds, 0.005)
    smoke run only (a plumbing check; decides nothing)

Rules, all pure functions of the claim and its evidence as of a date:

- **One current run per (experiment, claim)**: the latest run (run-id UTC stamp) at the highest
  non-smoke scale (gpu > cpu > tiny); only when an experiment has nothing but smoke runs is the
  latest smoke run current, and then it is labelled as a smoke run, never as a verdict. An
  earlier run at the current run's scale is *superseded* by it: kept in the timeline, greyed,
  moving nothing. Smoke runs never stand in for a cpu or gpu verdict.
- A pilot run (seeds >= 100, for tuning; issue 19) is treated like a smoke run.
- An external result file (not signed by this installation) is no re-test of ours until a person
  accepts it.
- **Toy or in scope**: a run is toy-scale for a claim when its model has fewer parameters than
  the claim's ``scope_params`` (claims without one: fewer than ``TOY_PARAMS``). A toy run never
  moves the literature status unless the claim is ``scale_free`` (a first-order identity, say).

    from claimtrack.graph.retest import retest_of
    r = retest_of(claim, evidence, as_of)    # evidence: the claim's items, any dates
    r.label, r.outcome, r.runs                # 'not reproduced at toy scale (0.39M, ...)', ...
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from claimtrack.graph.models import Claim, Evidence

# Claims whose corpus entry states no scope: runs below 100M parameters are toy-scale for them
# (no RL-for-LLM claim in the corpus is stated below Qwen2.5-0.5B; 1e8 leaves room for small
# GPU runs to count as in-scope only when the corpus says so).
TOY_PARAMS = 1e8
SCALE_RANK = {"smoke": 0, "tiny": 1, "cpu": 2, "gpu": 3}
OUTCOMES = ("reproduced", "not-reproduced", "undecided", "unfair", "smoke-only", "untested")
TASK_NAMES = {"modwalk": "ModWalk", "modchain": "ModChain", "modchain-conf": "ModChain",
              "modchain-critique": "ModChain", "countdown": "countdown-lite"}
UNFAIR = "not a fair test here"
_STAMP = re.compile(r"\d{8}T\d{6}Z")
_RUN_SCALE = re.compile(r"-(smoke|gpu|tiny|cpu)-\d{8}T\d{6}Z-")
WHY_CHARS = 90
PILOT_SEED_MIN = 100  # replicate.stats: seeds >= 100 are pilot (tuning) seeds


@dataclass(frozen=True)
class RunTest:
    """One (experiment, claim) re-test: its current run and the words for it."""

    experiment: str
    run: str            # current run id
    evidence: str       # id of the current run's evidence item
    verdict: str        # holds | does-not-hold | inconclusive
    outcome: str        # one of OUTCOMES
    label: str          # retest_label(...) of the current run
    toy: bool
    moves: bool         # whether it may enter the literature ladder (in scope, or scale-free)
    superseded: tuple[str, ...] = ()  # runs it supersedes

    def to_dict(self) -> dict:
        return {"experiment": self.experiment, "run": self.run, "evidence": self.evidence,
                "verdict": self.verdict, "outcome": self.outcome, "label": self.label,
                "toy": self.toy, "moves": self.moves, "superseded": list(self.superseded)}


@dataclass(frozen=True)
class Retest:
    """A claim's re-test as of a date: one ``RunTest`` per experiment, and what was set aside."""

    tests: tuple[RunTest, ...] = ()
    superseded: dict[str, str] = field(default_factory=dict)  # evidence id -> superseding run id

    @property
    def label(self) -> str:
        """All current re-tests in words, '' when the claim was never re-tested."""
        return "; ".join(t.label if len(self.tests) == 1 else f"{t.experiment}: {t.label}"
                         for t in self.tests)

    @property
    def outcome(self) -> str:
        """The claim's re-test in one word (OUTCOMES); a disagreement between experiments is
        'undecided'. Smoke-only or nothing: 'smoke-only' / 'untested'."""
        decided = {t.outcome for t in self.tests if t.outcome != "smoke-only"}
        if not self.tests:
            return "untested"
        if not decided:
            return "smoke-only"
        if len(decided) == 1:
            return decided.pop()
        if decided <= {"undecided", "unfair"}:
            return "undecided"
        real = decided & {"reproduced", "not-reproduced"}
        return real.pop() if len(real) == 1 else "undecided"

    @property
    def runs(self) -> list[str]:
        return [t.run for t in self.tests]

    @property
    def current(self) -> set[str]:
        """Evidence ids of the current runs."""
        return {t.evidence for t in self.tests}

    def to_dict(self) -> dict:
        return {"label": self.label, "outcome": self.outcome,
                "tests": [t.to_dict() for t in self.tests], "superseded": dict(self.superseded)}

    @classmethod
    def from_dict(cls, d: dict) -> Retest:
        tests = tuple(RunTest(**{**t, "superseded": tuple(t.get("superseded", ()))})
                      for t in d.get("tests", ()))
        return cls(tests, dict(d.get("superseded", {})))


# -- facts about one run ------------------------------------------------------------------------
def run_stamp(ev: Evidence) -> str:
    """The run's UTC start stamp from its id ('' if none): orders same-day runs."""
    m = _STAMP.search(ev.source or "")
    return m.group(0) if m else ""


def scale_name(ev: Evidence) -> str:
    name = (ev.provenance.get("scale") or {}).get("name")
    if name:
        return str(name)
    m = _RUN_SCALE.search(ev.source or "")
    return m.group(1) if m else ("smoke" if ev.strength == "weak" else "cpu")


def is_pilot(ev: Evidence) -> bool:
    """A run on pilot seeds (>= 100, issue 19: tuning only): it decides nothing, like a smoke run."""
    role = ev.provenance.get("seed_role")
    if role:
        return role == "pilot"
    seeds = ev.provenance.get("seeds") or []
    return bool(seeds) and all(isinstance(x, int) and x >= PILOT_SEED_MIN for x in seeds)


def is_trial(ev: Evidence) -> bool:
    """Smoke or pilot: shown in the timeline, never a claim's re-test verdict."""
    return scale_name(ev) == "smoke" or is_pilot(ev)


def experiment_of(ev: Evidence) -> str:
    exp = ev.provenance.get("experiment")
    if exp:
        return str(exp)
    m = _RUN_SCALE.search(ev.source or "")
    return (ev.source or "")[: m.start()] if m else (ev.source or "?")


def params_of(ev: Evidence) -> float | None:
    p = (ev.provenance.get("scale") or {}).get("params")
    return float(p) if isinstance(p, int | float) and p > 0 else None


def is_toy(claim: Claim, ev: Evidence) -> bool:
    """Whether a replication ran below the claim's scope (unknown model size: toy)."""
    params = params_of(ev)
    floor = claim.scope_params or TOY_PARAMS
    return params is None or params < floor


def may_move(claim: Claim, ev: Evidence) -> bool:
    """Whether a replication may enter the ladder by its scale: in scope, or a scale-free claim."""
    return bool(claim.scale_free) or not is_toy(claim, ev)


def fmt_params(params: float | None) -> str:
    """394752 -> '0.39M', 7.6e9 -> '7.6B'."""
    if params is None:
        return "size unknown"
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if params >= div or unit == "M" and params >= 1e4:
            v = params / div
            return f"{v:.2f}{unit}" if v < 1 else f"{v:.3g}{unit}"
    return f"{params:.0f}"


def _checklist(ev: Evidence) -> list | None:
    rows = ev.provenance.get("checklist")
    return rows if isinstance(rows, list) else None


def short_why(because: str) -> str:
    """The deciding clause of a rule's reason, short: 'preconditions unmet: control_learned'.
    Unmet preconditions name why a run decided nothing, so they win over a seed tally such as
    '0 valid seed(s): 0 pass, 0 fail' that comes first."""
    clauses = [c.strip() for c in because.split(";")]
    first = next((c for c in clauses if c.startswith("preconditions unmet")), clauses[0])
    if first.startswith("preconditions unmet"):
        names = sorted(set(re.findall(r"'([A-Za-z0-9_\-]+)'", first)))
        first = "preconditions unmet" + (f": {', '.join(names)}" if names else "")
    return first if len(first) <= WHY_CHARS else first[: WHY_CHARS - 1].rstrip() + "…"


def outcome_of(ev: Evidence) -> str:
    verdict = ev.provenance.get("verdict") or {"supports": "holds", "contradicts": "does-not-hold"}.get(
        ev.direction, "inconclusive")
    if is_trial(ev):
        return "smoke-only"
    if verdict == "holds":
        return "reproduced"
    if verdict == "does-not-hold":
        return "not-reproduced"
    return "unfair" if _because(ev).startswith(UNFAIR) else "undecided"


def _because(ev: Evidence) -> str:
    because = ev.provenance.get("because")
    if isinstance(because, str):
        return because
    verdict = ev.provenance.get("verdict", "")
    return ev.summary.split(f": {verdict}. ", 1)[1] if f": {verdict}. " in ev.summary else ""


def retest_label(claim: Claim, ev: Evidence) -> str:
    """The words for one run's verdict on ``claim`` (module docstring); the one source of them."""
    outcome = outcome_of(ev)
    if outcome == "smoke-only":
        if is_pilot(ev) and scale_name(ev) != "smoke":
            return "pilot run only (tuning seeds; decides nothing)"
        return "smoke run only (a plumbing check; decides nothing)"
    where = "at toy scale" if is_toy(claim, ev) else "in scope"
    task = (ev.provenance.get("scale") or {}).get("task", "")
    seeds = ev.provenance.get("seeds") or []
    bits = [fmt_params(params_of(ev)), TASK_NAMES.get(task, task or "task unknown"),
            f"{len(seeds)} seed{'s' * (len(seeds) != 1)}"]
    tail = "" if _checklist(ev) is not None else "; fairness not assessed"
    what = f"{', '.join(bits)}{tail}"
    if outcome == "reproduced":
        return f"reproduced {where} ({what})"
    if outcome == "not-reproduced":
        return f"not reproduced {where} ({what})"
    because = _because(ev)
    if outcome == "unfair":
        inner = because[len(UNFAIR):].strip()
        inner = inner[1:inner.find(")")] if inner.startswith("(") and ")" in inner else short_why(inner)
        return f"{UNFAIR} ({inner}; {what})"
    return f"undecided ({short_why(because) or 'inconclusive'}; {what})"


# -- the claim's re-test ------------------------------------------------------------------------
def _order(ev: Evidence) -> tuple:
    return (SCALE_RANK.get(scale_name(ev), 1), ev.date, run_stamp(ev), ev.id)


def retest_of(claim: Claim, evidence: list[Evidence], as_of: dt.date | None = None,
              withdrawn: set[str] | frozenset[str] = frozenset()) -> Retest:
    """The claim's re-test as of ``as_of`` (default: every item) from its replication evidence."""
    # an external result file is not our re-test until a person accepts it (an unflagged copy)
    reps = [e for e in evidence if e.kind == "replication" and e.claim == claim.id
            and (as_of is None or e.date <= as_of) and e.id not in withdrawn and "external" not in e.flags]
    by_exp: dict[str, list[Evidence]] = {}
    for e in reps:
        by_exp.setdefault(experiment_of(e), []).append(e)
    tests, superseded = [], {}
    for exp in sorted(by_exp):
        runs = by_exp[exp]
        real = [e for e in runs if not is_trial(e)]
        pool = real or runs
        cur = max(pool, key=_order)
        rank = SCALE_RANK.get(scale_name(cur), 1)
        older = [e for e in pool if e.source != cur.source and SCALE_RANK.get(scale_name(e), 1) == rank]
        for e in older:
            superseded[e.id] = cur.source
        toy = is_toy(claim, cur)
        tests.append(RunTest(exp, cur.source, cur.id, cur.provenance.get("verdict", ""),
                             outcome_of(cur), retest_label(claim, cur), toy,
                             bool(real) and may_move(claim, cur),
                             tuple(sorted({e.source for e in older}))))
    return Retest(tuple(tests), superseded)
