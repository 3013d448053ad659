"""Typed records of the claim graph: Paper, Claim, Relation, Evidence, Inquiry.

The records follow ../shared/DESIGN.md ("Records"). They are frozen pydantic models with
``extra="forbid"`` so that a typo in a corpus file is an error, not a silently dropped field.
Vocabularies (topics, kinds, directions, ...) are closed tuples below; the corpus README
(``corpus/data/README.md``) documents them for curators.

Status is *not* a field of Claim: it is derived from the evidence (see ``claimtrack.graph.status``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

TOPICS = (
    "entropy-collapse",
    "planning",
    "latent-capability",
    "reward-information",
    "calibration",
    "reward-variance",
    "compute-scaling",
    "agentic-exploration",
    "entropy-diagnostic",
    "other",
)
CLAIM_KINDS = ("empirical-law", "mechanism", "intervention-effect", "deflationary", "observation")
RELATION_KINDS = ("supports", "contradicts", "qualifies", "competes-with", "generalizes", "supersedes")
RELATION_STATES = ("accepted", "suggested", "rejected")
EVIDENCE_KINDS = ("paper", "source-check", "curator", "replication")
DIRECTIONS = ("supports", "contradicts", "qualifies", "inconclusive")
STRENGTHS = ("weak", "moderate", "strong")
FLAGS = (
    "misattributed",
    "unverified-figure",
    "overstated",
    "not-found-in-source",
    "version-dependent",
    "scope-narrower",
    "source-revised",  # a newer arXiv version of a source appeared (claimtrack watch)
    # replication provenance (claimtrack.runs.replication): a result file this installation's worker
    # did not sign; a result whose registered code / whose verdict could not be checked
    "external",
    "unverified-code",
    "unverified-verdict",
    "unquoted",  # a paper item whose direction is not yet grounded in a quoted sentence (issue 18)
)
# What a claim is to the inquiry (issue 18): only ``bottleneck`` claims form rival families.
ROLES = ("bottleneck", "mechanism", "technique", "diagnostic", "deflationary")

# New-style (2505.22617, optionally v3) and old-style (hep-th/9901001) arXiv identifiers.
ARXIV_ID_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9\-]*$")

Topic = Literal[TOPICS]  # type: ignore[valid-type]
ClaimKind = Literal[CLAIM_KINDS]  # type: ignore[valid-type]
RelationKind = Literal[RELATION_KINDS]  # type: ignore[valid-type]
RelationState = Literal[RELATION_STATES]  # type: ignore[valid-type]
EvidenceKind = Literal[EVIDENCE_KINDS]  # type: ignore[valid-type]
Direction = Literal[DIRECTIONS]  # type: ignore[valid-type]
Strength = Literal[STRENGTHS]  # type: ignore[valid-type]
Flag = Literal[FLAGS]  # type: ignore[valid-type]
Role = Literal[ROLES]  # type: ignore[valid-type]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(f"{value!r} is not a slug (lowercase letters, digits and '-')")
    return value


def _arxiv_id(value: str) -> str:
    if not ARXIV_ID_RE.match(str(value)):
        raise ValueError(f"{value!r} is not an arXiv id (e.g. 2505.22617)")
    return str(value)


class PaperVersion(Record):
    version: str = Field(description="arXiv version label, e.g. 'v3'")
    date: dt.date | None = Field(default=None, description="submission date of this version")
    title: str | None = Field(default=None, description="title of this version, when known")
    abstract: str | None = Field(default=None, description="abstract of this version, when known")


class Paper(Record):
    arxiv_id: str = Field(description="arXiv id without version, e.g. '2505.22617'")
    title: str = Field(description="latest known title")
    authors: list[str] = Field(default_factory=list)
    first_submitted: dt.date = Field(description="date v1 was submitted")
    updated: dt.date | None = Field(default=None, description="date of the latest known version")
    primary_category: str = ""
    categories: list[str] = Field(default_factory=list)
    abstract: str = Field(default="", description="latest known abstract")
    versions: list[PaperVersion] = Field(default_factory=list, description="oldest first")
    notes: str = ""
    unverified_fields: list[str] = Field(default_factory=list)

    _check_id = field_validator("arxiv_id")(classmethod(lambda cls, v: _arxiv_id(v)))

    @property
    def latest_version(self) -> str:
        return self.versions[-1].version if self.versions else "v1"

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"


class Quantity(Record):
    name: str
    value: str
    verified: bool = Field(default=True, description="false: seen only in secondary sources")
    note: str = ""

    @field_validator("value", mode="before")
    @classmethod
    def _stringify(cls, v: Any) -> str:
        return str(v)


class Prediction(Record):
    experiment: str = Field(description="replication experiment that tests it (python -m replicate list)")
    text: str = Field(description="the testable prediction, in our words")


class Extraction(Record):
    """How a candidate claim was extracted from a paper (claimtrack.literature.extract)."""

    method: str = Field(description="'heuristic' or 'llm'")
    model: str = Field(default="", description="chat model name, '' for heuristic")
    prompt_version: str = ""
    span: str = Field(default="", description="the source sentence(s) the claim rests on")
    extracted_at: dt.date | None = None


class Claim(Record):
    id: str = Field(description="stable slug")
    statement: str = Field(description="the claim, in our own words")
    topic: Topic
    kind: ClaimKind
    sources: list[str] = Field(min_length=1, description="arXiv ids; the first is the primary source")
    first_asserted: dt.date = Field(description="date the claim was first asserted by its source")
    scope: str = ""
    quantities: list[Quantity] = Field(default_factory=list)
    prediction: Prediction | None = None
    inquiry_note: int | None = Field(default=None, description="which note of the seed inquiry")
    role: Role | None = Field(default=None, description="bottleneck, mechanism, technique, diagnostic "
                              "or deflationary (None: not yet classified, e.g. an extracted candidate)")
    scope_params: float | None = Field(default=None, gt=0, description="smallest model size (parameters) "
                                       "the sources state or test the claim at; smaller runs are toy-scale")
    scale_free: str = Field(default="", description="why the claim holds at any model size, if it does")
    extraction: Extraction | None = Field(default=None, description="set for extracted candidates")

    _check_id = field_validator("id")(classmethod(lambda cls, v: _slug(v)))

    @field_validator("sources")
    @classmethod
    def _check_sources(cls, v: list[str]) -> list[str]:
        return [_arxiv_id(s) for s in v]

    @property
    def curated(self) -> bool:
        return self.extraction is None


class Relation(Record):
    source: str = Field(description="claim id")
    target: str = Field(description="claim id")
    kind: RelationKind
    date: dt.date = Field(description="when the relation became assertable")
    asserted_by: str = Field(default="curator", description="curator, extractor:<method>, replication")
    source_ref: str = Field(default="", description="paper (arXiv id) or note that grounds it")
    note: str = ""
    state: RelationState = "accepted"
    score: float | None = Field(default=None, description="similarity score of a suggestion")


class Evidence(Record):
    id: str = Field(description="stable unique id; evidence is append-only")
    claim: str = Field(description="claim id")
    date: dt.date
    kind: EvidenceKind
    direction: Direction
    strength: Strength = "moderate"
    source: str = Field(description="arXiv id, 'verification-notes', 'curator' or a run id")
    summary: str
    flags: list[Flag] = Field(default_factory=list)
    scope: str = ""
    span: str = Field(default="", description="where in the source")
    quote: str = Field(default="", description="the citing paper's sentence the direction rests on")
    quote_where: str = Field(default="", description="where the quote is, with the version: 'abstract v2'")
    corrects: str | None = Field(default=None, description="id of an earlier item this one replaces at "
                                 "every date (our misreading of the same paper)")
    recorded: dt.date | None = Field(default=None, description="when a correcting item was recorded")
    provenance: dict[str, Any] = Field(
        default_factory=dict, description="run id, code revision, device, seeds, scale, result file"
    )


class SavedQuery(Record):
    """An arXiv search an inquiry keeps, run by ``claimtrack watch`` for new submissions."""

    keywords: list[str] = Field(min_length=1, description="phrases matched in title or abstract (any)")
    categories: list[str] = Field(default_factory=list, description="arXiv categories (any), e.g. cs.LG")
    max_results: int = Field(default=100, ge=1, le=1000, description="at most this many per run")

    @field_validator("keywords")
    @classmethod
    def _check_keywords(cls, v: list[str]) -> list[str]:
        if any(not k.strip() or '"' in k for k in v):
            raise ValueError("keywords must be non-empty phrases without double quotes")
        return [k.strip() for k in v]

    @field_validator("categories")
    @classmethod
    def _check_categories(cls, v: list[str]) -> list[str]:
        for c in v:
            if not re.fullmatch(r"[a-z\-]+(\.[A-Za-z\-]+)?", c):
                raise ValueError(f"{c!r} is not an arXiv category (e.g. cs.LG)")
        return v

    def arxiv_query(self) -> str:
        """The arXiv API query: any keyword in the abstract or title, within any category."""
        words = " OR ".join(f'abs:"{k}" OR ti:"{k}"' for k in self.keywords)
        cats = " OR ".join(f"cat:{c}" for c in self.categories)
        return f"({words})" + (f" AND ({cats})" if cats else "")


class Inquiry(Record):
    id: str
    question: str
    created: dt.date
    description: str = ""
    claims: list[str] = Field(default_factory=list)
    anchor_papers: list[str] = Field(default_factory=list)
    seed_honest_read: str = ""
    seed_prompt_anchor_notes: str = ""
    watch: list[SavedQuery] = Field(default_factory=list, description="saved arXiv queries (claimtrack watch)")

    _check_id = field_validator("id")(classmethod(lambda cls, v: _slug(v)))
