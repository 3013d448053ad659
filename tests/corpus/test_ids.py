"""corpus.ids: what counts as an arXiv id, checked before any request.

    python -m pytest tests/corpus/test_ids.py -q
"""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claimtrack.graph.models import ARXIV_ID_RE
from corpus.ids import ArxivId, IdError, parse_id, parse_ids, split_versioned


@pytest.mark.parametrize("text, expected", [
    ("2505.22617", ArxivId("2505.22617")),
    ("2505.22617v3", ArxivId("2505.22617", "v3")),
    ("arXiv:2505.22617", ArxivId("2505.22617")),
    ("https://arxiv.org/abs/2506.13351v2", ArxivId("2506.13351", "v2")),
    ("https://arxiv.org/pdf/2506.13351v2.pdf", ArxivId("2506.13351", "v2")),
    ("0704.0001", ArxivId("0704.0001")),
    ("hep-th/9901001", ArxivId("hep-th/9901001")),
    ("math.GT/0309136v1", ArxivId("math.GT/0309136", "v1")),
    (" astro-ph/0601001 ", ArxivId("astro-ph/0601001")),
])
def test_accepted(text, expected):
    assert parse_id(text) == expected


@pytest.mark.parametrize("text", ["abc", "", "2505.226", "2513.22617", "0000.0000", "2505.22617v0",
                                  "2505.22617v", "hep-th/99010011", "25O5.22617", "2505-22617"])
def test_rejected(text):
    assert parse_id(text) is None


def test_parse_ids_names_every_bad_id_and_dedups():
    with pytest.raises(IdError) as err:
        parse_ids(["2505.22617", "abc", "2505.226"])
    assert err.value.bad == ["abc", "2505.226"]
    assert "malformed arXiv ids 'abc', '2505.226'" in str(err.value)
    assert parse_ids(["2505.22617", "arXiv:2505.22617"]) == [ArxivId("2505.22617")]
    assert pickle.loads(pickle.dumps(err.value)).bad == ["abc", "2505.226"]


def test_slug_and_split():
    assert ArxivId("hep-th/9901001").slug == "hep-th-9901001"
    assert split_versioned("2505.22617v12") == ArxivId("2505.22617", "v12")
    assert split_versioned("2505.22617") == ArxivId("2505.22617", None)


@given(yy=st.integers(0, 99), mm=st.integers(1, 12), n=st.integers(0, 99999), v=st.integers(1, 30))
def test_every_accepted_id_is_a_store_id(yy, mm, n, v):
    aid = parse_id(f"{yy:02d}{mm:02d}.{n:05d}v{v}")
    assert aid is not None and ARXIV_ID_RE.match(aid.base) and ARXIV_ID_RE.match(str(aid))
