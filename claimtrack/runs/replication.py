"""Import replication result files (``python -m replicate run ... --out DIR``) as dated evidence.

The result file is the only contract between ``replicate`` and the graph (DESIGN.md, schema
``claimtrack.replication/1``). Importing validates it fully first — evidence appears only from a
complete, valid result — then, in one transaction, records the run and adds one Evidence per
tested claim:

    verdict holds → supports, does-not-hold → contradicts, inconclusive → inconclusive
    strength: smoke and tiny scale → weak (never moves a status), cpu and gpu → moderate. A toy
    replication supports or questions a claim; it never counts as "strong".

Evidence ids are ``rep:<run_id>:<claim>``, so re-importing the same run changes nothing.

Trust (DESIGN.md: nothing moves a status without a person's acceptance or a verified run of this
installation). Before anything is written, every field is checked for range and vocabulary
(device, non-negative distinct seeds, no future dates, safe ids and file names), and
``replicate verify`` (run as a process: claimtrack never imports replicate) checks the registered
code at the recorded revision and recomputes the verdict from the run's own records:

    a verdict or deciding number that differs, or code that is not the registered code → refused
    code revision not in this repository           → evidence flagged ``unverified-code``
    records missing / analyse needs more than them → evidence flagged ``unverified-verdict``
    not signed by this installation's worker       → flagged ``external``: moves no status until
                                                     a person accepts it (``accept_external``)

Result files shipped in the corpus (``corpus/data/results/``) are curated content, imported by
``claimtrack init`` without the (slow) verify process: the verification made when they were
shipped is carried with their committed records (``claimtrack.runs.shipped``), so their evidence
is ``unverified-verdict`` only where records are missing or changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from claimtrack.graph.errors import InputError, NotFoundError, ResultFileError
from claimtrack.graph.models import Evidence
from claimtrack.graph.store import Store
from claimtrack.runs.command import replicate_command

SCHEMA = "claimtrack.replication/1"
VERDICT_TO_DIRECTION = {"holds": "supports", "does-not-hold": "contradicts",
                        "inconclusive": "inconclusive"}
Verdict = Literal["holds", "does-not-hold", "inconclusive"]


ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}-(smoke|gpu|tiny|cpu)-\d{8}T\d{6}Z-[0-9a-f]{6}$")
FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")  # a plain file name, no folders
REL_PATH_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}$")
CLOCK_SKEW = dt.timedelta(days=1)
VERIFY_TIMEOUT_S = 600


def safe_id(value: str, what: str = "run id") -> str:
    """``value`` if it is a run id (``<experiment>-<scale>-<UTC stamp>-<6 hex>``), else
    ResultFileError: a name that becomes a path never contains ``/`` or ``..``."""
    if not isinstance(value, str) or not ID_RE.match(value):
        raise ResultFileError(f"{what} {value!r} is not a run id (<experiment>-<scale>-YYYYMMDDTHHMMSSZ-<6 hex>)")
    return value


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ClaimVerdict(_Open):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    verdict: Verdict
    because: str


class Criterion(_Open):
    text: str
    thresholds: dict[str, Any]
    registered_in: str = Field(pattern=REL_PATH_RE.pattern)
    registered_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("registered_in")
    @classmethod
    def _relative(cls, v: str) -> str:
        if ".." in v.split("/"):
            raise ValueError("must be a path inside the repository")
        return v


class Scale(_Open):
    name: Literal["smoke", "gpu", "tiny", "cpu"]
    params: int = Field(gt=0)
    task: str
    description: str


class Files(_Open):
    metrics: str = Field(default="metrics.jsonl", pattern=FILE_RE.pattern)
    plots: list[Annotated[str, Field(pattern=FILE_RE.pattern)]] = Field(default_factory=list)


class ResultFile(_Open):
    """The fields claimtrack relies on, range- and vocabulary-checked; replicate may add more."""

    schema_: Literal["claimtrack.replication/1"] = Field(alias="schema")
    run_id: str = Field(pattern=ID_RE.pattern)
    experiment: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    claims: list[ClaimVerdict] = Field(min_length=1)
    verdict: Verdict
    criterion: Criterion
    decision: dict[str, Any]
    config: dict[str, Any]
    seeds: list[Annotated[int, Field(ge=0, strict=True)]] = Field(min_length=1)
    scale: Scale
    device: Literal["cpu", "cuda"]
    code_revision: str
    started_at: dt.datetime
    finished_at: dt.datetime
    summary: str
    fits: dict[str, Any] = Field(default_factory=dict)
    series: dict[str, Any] = Field(default_factory=dict)
    files: Files = Field(default_factory=Files)

    @model_validator(mode="after")
    def _consistent(self) -> ResultFile:
        ids = [c.id for c in self.claims]
        if len(set(ids)) != len(ids):
            raise ValueError("claims: a claim id is repeated")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds: a seed is repeated")
        if not self.run_id.startswith(self.experiment + "-"):
            raise ValueError("run_id: must start with the experiment name")
        start, end = (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
                      for t in (self.started_at, self.finished_at))
        if end < start:
            raise ValueError("finished_at: before started_at")
        if end > dt.datetime.now(dt.timezone.utc) + CLOCK_SKEW:
            raise ValueError("finished_at: in the future")
        return self


def read_result(path: str | Path) -> ResultFile:
    """Parse and validate a result file; one-line ResultFileError if it is not importable."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultFileError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ResultFileError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ResultFileError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); "
                              "the run may not have finished") from None
    try:
        return ResultFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "file"
        msg = err["msg"].removeprefix("Value error, ")
        raise ResultFileError(f"{path}: {where}: {msg}") from None


@dataclass(frozen=True)
class Checked:
    """A result file that passed every check, with what could not be checked."""

    result: ResultFile
    path: str
    trust: str  # "signed" (this installation's worker), "external", or "corpus" (shipped)
    code: dict[str, str] = field(default_factory=dict)  # {"status", "why"} from replicate verify
    verdict: dict[str, str] = field(default_factory=dict)

    @property
    def flags(self) -> list[str]:
        out = ["external"] if self.trust == "external" else []
        out += ["unverified-code"] if self.code.get("status") != "verified" else []
        out += ["unverified-verdict"] if self.verdict.get("status") != "verified" else []
        return out


def _repo_code_check(result: ResultFile) -> dict[str, str]:
    """The registered file's sha256 at the recorded revision, with git only (shipped results)."""
    repo = Path(__file__).resolve().parents[1]
    rev = result.code_revision.removesuffix("-dirty")
    if not re.fullmatch(r"[0-9a-f]{7,40}", rev):
        return {"status": "unverified", "why": f"code revision {result.code_revision!r} is not a git commit"}
    try:
        proc = subprocess.run(["git", "show", f"{rev}:{result.criterion.registered_in}"], cwd=repo,
                              capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        proc = None
    if proc is None or proc.returncode != 0:
        return {"status": "unverified", "why": f"revision {rev[:12]} is not in this repository"}
    if hashlib.sha256(proc.stdout).hexdigest() == result.criterion.registered_sha256:
        return {"status": "verified", "why": f"registered file at {rev[:12]} has the registered sha256"}
    if result.code_revision.endswith("-dirty"):
        return {"status": "unverified", "why": "run from a modified working tree"}
    return {"status": "mismatch", "why": f"registered_sha256 is not the sha256 of "
            f"{result.criterion.registered_in} at {rev[:12]}"}


def _replicate_verify(path: Path) -> dict[str, Any]:
    """``replicate verify PATH`` as a process (claimtrack never imports replicate)."""
    cmd = [*replicate_command(), "verify", str(path)]
    why = None
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=VERIFY_TIMEOUT_S, check=False)
        report = json.loads(proc.stdout)
        if isinstance(report, dict) and isinstance(report.get("problems"), list):
            report.setdefault("code", {"status": "unverified", "why": "not checked"})
            report.setdefault("verdict", {"status": "unverified", "why": "not checked"})
            return report
        why = "it printed no report"
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        why = f"{type(exc).__name__}: {exc}"
    unverified = {"status": "unverified", "why": f"`replicate verify` could not run ({why})"}
    return {"problems": [], "code": unverified, "verdict": unverified}


def check(path: str | Path, *, corpus: bool = False, external: bool = False) -> Checked:
    """Validate a result file and its provenance without touching the store (see module doc).

    ResultFileError (one line) for an invalid file, a recomputed verdict or deciding number that
    differs from the stored one, or a registered sha256 that is not the code's."""
    from claimtrack.runs import signing

    path = Path(path)
    result = read_result(path)
    if corpus:  # verification done when shipped, carried with the committed records (runs/shipped.py)
        from claimtrack.runs.shipped import carried
        kept = carried(path, result.run_id)
        code, verdict = kept["code"] or _repo_code_check(result), kept["verdict"]
    else:
        report = _replicate_verify(path)
        if report["problems"]:
            raise ResultFileError(f"{path}: {report['problems'][0]}")
        code, verdict = report["code"], report["verdict"]
    for what, rep in (("code", code), ("verdict", verdict)):
        if rep.get("status") == "mismatch":
            raise ResultFileError(f"{path}: refused, {what} does not check: {rep.get('why')}")
    if external:
        trust = "external"
    elif corpus:
        trust = "corpus"
    else:
        trust = "signed" if signing.check(path) == "signed" else "external"
    return Checked(result, str(path.resolve()), trust, code, verdict)


def _checklist_rows(result: ResultFile, claim_id: str) -> list[dict] | None:
    """The result's fair-test checklist rows that gate ``claim_id`` (issue 19); None without one."""
    rows = getattr(result, "checklist", None)
    if not isinstance(rows, list):
        return None
    return [r for r in rows if isinstance(r, dict) and (not r.get("claims") or claim_id in r["claims"])]


def evidence_from(result: ResultFile | Checked, result_path: str | None = None) -> list[Evidence]:
    """The dated evidence a result adds, one per tested claim."""
    checked = result if isinstance(result, Checked) else None
    result = checked.result if checked else result
    result_path = checked.path if checked else result_path
    weak = result.scale.name in ("smoke", "tiny")  # plumbing checks; cpu and gpu runs can decide (issue 11)
    out = []
    for cv in result.claims:
        out.append(Evidence(
            id=f"rep:{result.run_id}:{cv.id}",
            claim=cv.id,
            date=result.finished_at.date(),
            kind="replication",
            direction=VERDICT_TO_DIRECTION[cv.verdict],
            strength="weak" if weak else "moderate",
            source=result.run_id,
            summary=f"Replication `{result.experiment}` ({result.scale.description}): "
                    f"{cv.verdict}. {cv.because}",
            flags=checked.flags if checked else [],
            scope=result.scale.description,
            span=result.criterion.text,
            provenance={
                "run_id": result.run_id, "experiment": result.experiment,
                "verdict": cv.verdict, "scale": result.scale.model_dump(),
                "device": result.device, "device_name": getattr(result, "device_name", ""),
                "seeds": result.seeds, "code_revision": result.code_revision,
                "criterion": result.criterion.model_dump(), "result_file": result_path,
                # the re-test axis (claimtrack.graph.retest, issue 18): the rule's reason, what the
                # rule alone said, and this claim's fair-test checklist rows (None: not assessed)
                "because": cv.because, "rule_verdict": getattr(cv, "rule_verdict", None) or cv.verdict,
                "checklist": _checklist_rows(result, cv.id), "seed_role": getattr(result, "seed_role", None),
                **({"trust": checked.trust, "checks": {"code": checked.code, "verdict": checked.verdict}}
                   if checked else {}),
            },
        ))
    return out


def _known_claims(store: Store, result: ResultFile, path: str | Path) -> None:
    missing = [cv.id for cv in result.claims if store.claim(cv.id) is None]
    if missing:
        raise NotFoundError(f"{path}: result tests unknown claim(s) {', '.join(missing)}")


def record(store: Store, checked: Checked) -> tuple[int, bool]:
    """Write a checked result (joins the caller's transaction). Returns (new evidence, new run)."""
    result = checked.result
    _known_claims(store, result, checked.path)
    with store.transaction():
        new_run = store.add_run(result.run_id, result.experiment, result.verdict,
                                result.finished_at.isoformat(), checked.path,
                                {**result.model_dump(mode="json", by_alias=True),
                                 "trust": checked.trust, "flags": checked.flags})
        if not new_run:  # already imported (perhaps from another path): nothing changes
            return 0, False
        added = sum(store.add_evidence(ev) for ev in evidence_from(checked))
    return added, new_run


def import_result(store: Store, path: str | Path, *, corpus: bool = False,
                  untrusted: frozenset[str] = frozenset()) -> tuple[int, bool]:
    """Check and import one result file. Returns (new evidence count, whether the run was new).
    A run in ``untrusted`` is imported as external even from the corpus (``untrusted_runs``)."""
    result = read_result(path)
    if store.run(result.run_id) is not None:
        return 0, False  # already imported: nothing to check or change
    _known_claims(store, result, path)
    return record(store, check(path, corpus=corpus, external=result.run_id in untrusted))


def accepted_runs(store: Store) -> set[str]:
    """Runs a person accepted (``accept_external``: evidence ``accepted:rep:<run>:<claim>``)."""
    return {r["source"] for r in store.query("SELECT source FROM evidence WHERE id LIKE 'accepted:rep:%'")}


def untrusted_runs(store: Store) -> frozenset[str]:
    """Runs this store holds as external that nobody accepted. ``init --force`` imports a shipped
    copy of one of them as external too, so copying a result into ``corpus/data/results/`` never
    turns it into trusted corpus content (issue 22)."""
    accepted = accepted_runs(store)
    return frozenset(r["run_id"] for r in store.runs()
                     if "external" in (r["data"].get("flags") or []) and r["run_id"] not in accepted)


def ship(store: Store, path: str | Path, dest_dir: Path) -> Path:
    """Copy an imported result into the corpus results folder (``evidence import --ship``).

    Refused in one line (InputError) unless the run is in the store and trusted: signed by this
    installation's worker, shipped corpus content, or an external run a person accepted. The
    copy is written to a temporary name and renamed, so a failure leaves no half file."""
    import os
    import shutil

    path = Path(path)
    result = read_result(path)
    run = store.run(result.run_id)
    if run is None:
        raise InputError(f"cannot ship {path}: run {result.run_id} is not imported; nothing was copied")
    if "external" in (run["data"].get("flags") or []) and result.run_id not in accepted_runs(store):
        raise InputError(f"cannot ship {path}: run {result.run_id} is external and not accepted "
                         f"(`claimtrack evidence accept {result.run_id} --by NAME` first); nothing was copied")
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{safe_id(result.run_id)}.json"
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(path, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot ship {path} to {dest_dir}: {exc.strerror}; nothing was copied") from None
    return dest


def accept_external(store: Store, run_id: str, by: str) -> list[Evidence]:
    """A person accepts an external run's evidence: for each piece still flagged ``external``,
    add an ``accepted:<id>`` copy without that flag (evidence is append-only; the original stays
    in the timeline). Returns the new evidence. The hook for ``claimtrack review``."""
    safe_id(run_id)
    by = by.strip()
    if not by:
        raise InputError("say who accepts (--by NAME)")
    external = [e for e in store.evidence() if e.source == run_id and "external" in e.flags]
    if not external:
        if store.run(run_id) is None:
            raise NotFoundError(f"no imported run {run_id!r}")
        raise InputError(f"run {run_id} has no external evidence to accept")
    today = dt.date.today()
    new = [Evidence(**{
        **e.model_dump(), "id": f"accepted:{e.id}", "flags": [f for f in e.flags if f != "external"],
        "summary": f"Accepted by {by} on {today}: {e.summary}",
        "provenance": {**e.provenance, "accepts": e.id, "accepted_by": by, "accepted_on": today.isoformat()},
    }) for e in external]
    with store.transaction():
        return [e for e in new if store.add_evidence(e)]
