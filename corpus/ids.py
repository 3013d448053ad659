"""arXiv identifiers: parse what people paste, reject what arXiv would not know.

Accepted forms (https://info.arxiv.org/help/arxiv_identifier.html):

    2505.22617  2505.22617v3  arXiv:2505.22617  https://arxiv.org/abs/2505.22617v2
    hep-th/9901001  math.GT/0309136v1  (old style, archive/YYMMNNN)

``parse_ids`` checks every id *before* any request is made, so a typo costs nothing:

    >>> parse_ids(["arXiv:2505.22617v3", "hep-th/9901001"])
    [ArxivId(base='2505.22617', version='v3'), ArxivId(base='hep-th/9901001', version=None)]
    >>> parse_ids(["2505.22617", "abc"])
    Traceback (most recent call last):
    ...
    corpus.ids.IdError: malformed arXiv id 'abc' (expected e.g. 2505.22617, 2505.22617v3 or hep-th/9901001)
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Same shape as claimtrack.graph.models.ARXIV_ID_RE, plus the month check (YYMM with MM in 01..12).
_NEW = r"\d{2}(?:0[1-9]|1[0-2])\.\d{4,5}"
_OLD = r"[a-z\-]+(?:\.[A-Z]{2})?/\d{2}(?:0[1-9]|1[0-2])\d{3}"
# Versions up to v9999: arXiv has none near that, and v99999999999999999999 must not pass as
# "already have a newer version".
ID_RE = re.compile(rf"^(?P<base>{_NEW}|{_OLD})(?P<version>v[1-9]\d{{0,3}})?$")
_PREFIXES = ("https://arxiv.org/abs/", "http://arxiv.org/abs/", "https://arxiv.org/pdf/",
             "http://arxiv.org/pdf/", "arxiv.org/abs/", "arxiv:")


class IdError(ValueError):
    """One or more malformed ids; ``bad`` lists them as given."""

    def __init__(self, bad: list[str]) -> None:
        self.bad = list(bad)
        shown = ", ".join(repr(b) for b in bad)
        noun = "id" if len(bad) == 1 else "ids"
        super().__init__(f"malformed arXiv {noun} {shown} "
                         "(expected e.g. 2505.22617, 2505.22617v3 or hep-th/9901001)")

    def __reduce__(self):
        return (type(self), (self.bad,))


class ArxivId(NamedTuple):
    base: str
    version: str | None = None

    def __str__(self) -> str:
        return self.base + (self.version or "")

    @property
    def slug(self) -> str:
        """Lowercase, '-'-separated form for ids and file names: 'hep-th/9901001' → 'hep-th-9901001'."""
        return re.sub(r"[^a-z0-9]+", "-", self.base.lower()).strip("-")


def parse_id(text: str) -> ArxivId | None:
    """One id, or None when it is malformed."""
    s = text.strip()
    low = s.lower()
    for prefix in _PREFIXES:
        if low.startswith(prefix):
            s = s[len(prefix):]
            break
    s = s.removesuffix(".pdf")
    m = ID_RE.match(s)
    return ArxivId(m["base"], m["version"]) if m else None


def parse_ids(texts: list[str]) -> list[ArxivId]:
    """Parse every id, de-duplicated in order; raises IdError naming *all* the malformed ones."""
    parsed, bad = [], []
    for t in texts:
        aid = parse_id(t)
        if aid is None:
            bad.append(t)
        elif aid not in parsed:
            parsed.append(aid)
    if bad:
        raise IdError(bad)
    return parsed


def split_versioned(short_id: str) -> ArxivId:
    """Split an id as arXiv returns it (``2505.22617v3``); unlike parse_id, it never rejects."""
    s = short_id.strip()
    m = re.fullmatch(r"(?P<base>.+?)(?P<version>v\d+)", s)
    return ArxivId(m["base"], m["version"]) if m else ArxivId(s, None)
