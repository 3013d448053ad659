"""Import replication result files (``python -m replicate run ... --out DIR``) as dated evidence.

The result file is the only contract between ``replicate`` and the graph (DESIGN.md, schema
``claimtrack.replication/1``). Importing validates it fully first — evidence appears only from a
complete, valid result — then, in one transaction, records the run and adds one Evidence per
tested claim:

    verdict holds → supports, does-not-hold → contradicts, inconclusive → inconclusive
    strength: smoke scale → weak (never moves a status), any other scale → moderate. A toy
    replication supports or questions a claim; it never counts as "strong".

Evidence ids are ``rep:<run_id>:<claim>``, so re-importing the same run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from claimtrack.errors import NotFoundError, ResultFileError
from claimtrack.models import Evidence
from claimtrack.store import Store

SCHEMA = "claimtrack.replication/1"
VERDICT_TO_DIRECTION = {"holds": "supports", "does-not-hold": "contradicts",
                        "inconclusive": "inconclusive"}
Verdict = Literal["holds", "does-not-hold", "inconclusive"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ClaimVerdict(_Open):
    id: str
    verdict: Verdict
    because: str


class Criterion(_Open):
    text: str
    thresholds: dict[str, Any]
    registered_in: str
    registered_sha256: str


class Scale(_Open):
    name: str
    params: int
    task: str
    description: str


class ResultFile(_Open):
    """The fields claimtrack relies on; replicate may add more."""

    schema_: Literal["claimtrack.replication/1"] = Field(alias="schema")
    run_id: str
    experiment: str
    claims: list[ClaimVerdict] = Field(min_length=1)
    verdict: Verdict
    criterion: Criterion
    decision: dict[str, Any]
    config: dict[str, Any]
    seeds: list[int]
    scale: Scale
    device: str
    code_revision: str
    started_at: dt.datetime
    finished_at: dt.datetime
    summary: str
    fits: dict[str, Any] = Field(default_factory=dict)
    series: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, Any] = Field(default_factory=dict)


def read_result(path: str | Path) -> ResultFile:
    """Parse and validate a result file; one-line ResultFileError if it is not importable."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultFileError(f"{path}: cannot read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ResultFileError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); "
                              "the run may not have finished") from None
    try:
        return ResultFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "file"
        raise ResultFileError(f"{path}: {where}: {err['msg']}") from None


def evidence_from(result: ResultFile, result_path: str) -> list[Evidence]:
    """The dated evidence a result adds, one per tested claim."""
    weak = result.scale.name == "smoke"
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
            scope=result.scale.description,
            span=result.criterion.text,
            provenance={
                "run_id": result.run_id, "experiment": result.experiment,
                "verdict": cv.verdict, "scale": result.scale.model_dump(),
                "device": result.device, "device_name": getattr(result, "device_name", ""),
                "seeds": result.seeds, "code_revision": result.code_revision,
                "criterion": result.criterion.model_dump(), "result_file": result_path,
            },
        ))
    return out


def import_result(store: Store, path: str | Path) -> tuple[int, bool]:
    """Import one result file. Returns (new evidence count, whether the run was new)."""
    result = read_result(path)
    known = set(store.claim_ids())
    missing = [cv.id for cv in result.claims if cv.id not in known]
    if missing:
        raise NotFoundError(f"{path}: result tests unknown claim(s) {', '.join(missing)}")
    path_str = str(Path(path).resolve())
    with store.transaction():
        new_run = store.add_run(result.run_id, result.experiment, result.verdict,
                                result.finished_at.isoformat(), path_str,
                                result.model_dump(mode="json", by_alias=True))
        if not new_run:  # already imported (perhaps from another path): nothing changes
            return 0, False
        added = sum(store.add_evidence(ev) for ev in evidence_from(result, path_str))
    return added, new_run
