"""No remote image or link from paper/API text on the Review and Claim pages (issue 22).

A citing paper's title, context, DOI, intents and "why", a paper title and an extracted claim's
statement all carry Markdown images; every Markdown string the pages hand to Streamlit is
rendered with markdown-it-py (CommonMark, as Streamlit's renderer) and must hold no <img> and no
link except those the app builds from validated arXiv ids. (The real-browser check: app/e2e.)

    python -m pytest tests/app/test_markdown_safety.py -q
"""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from claimtrack.graph.models import Claim, Paper
from claimtrack.literature import review
from tests.app.conftest import APP

PIXEL = "![px](http://127.0.0.1:9/pixel.gif)"
LINK = "[click](http://127.0.0.1:9/phish)"


def _markdown_strings(at: AppTest) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "warning", "info", "error", "title", "subheader", "success"):
        out += [e.value for e in at.get(kind)]
    out += [e.label for e in at.expander]
    return out


def _links_and_images(md: str) -> tuple[list[str], int]:
    mdi = pytest.importorskip("markdown_it")
    tokens = mdi.MarkdownIt("commonmark").parse(md)
    hrefs, images = [], 0
    for t in tokens:
        for c in t.children or []:
            if c.type == "link_open":
                hrefs.append(c.attrs.get("href"))
            if c.type == "image":
                images += 1
    return hrefs, images


def _check(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    for md in _markdown_strings(at):
        hrefs, images = _links_and_images(md)
        assert images == 0, md
        assert all(h.startswith("https://arxiv.org/abs/") for h in hrefs), md


def test_review_page_shows_api_text_as_text(app_home, seeded_store):
    cand = review.Candidate(
        id=review.candidate_id("entropy-covariance", "doi:10.1/x"), claim="entropy-covariance",
        paper_key="doi:10.1/x", doi=f"10.1/x`{PIXEL}`", title=f"Title {PIXEL} {LINK}",
        published=dt.date(2026, 11, 20), cites="2505.22617", found_by="s2",
        found_on=dt.date(2026, 11, 29), contexts=[f"Context {PIXEL}"], intents=[f"result {PIXEL}"],
        suggested="mentions", why=f"why {PIXEL}", method="heuristic", warnings=[f"warn {PIXEL}"])
    review.queue(seeded_store, [cand])
    at = AppTest.from_file(str(APP / "screens" / "review_queue.py"), default_timeout=60).run()
    _check(at)
    assert any(PIXEL in t.value for t in at.text)  # shown, as text


def test_claim_page_shows_paper_text_as_text(app_home, seeded_store):
    with seeded_store.transaction():
        seeded_store.upsert_paper(Paper(arxiv_id="2611.00042", title=f"Paper {PIXEL} {LINK}",
                                        first_submitted=dt.date(2026, 11, 1)))
        seeded_store.upsert_claim(Claim(
            id="x-2611-00042-aaaaaa", statement=f"Extracted {PIXEL} from an abstract {LINK}.",
            topic="other", kind="observation", sources=["2611.00042"],
            first_asserted=dt.date(2026, 11, 1), extraction={"method": "heuristic"}))
    at = AppTest.from_file(str(APP / "screens" / "claim_detail.py"), default_timeout=60)
    at.session_state["claim"] = "x-2611-00042-aaaaaa"
    at.run()
    _check(at)
    assert at.title[0].value == "x-2611-00042-aaaaaa"
    at = AppTest.from_file(str(APP / "screens" / "claim_detail.py"), default_timeout=60)
    at.session_state["claim"] = PIXEL  # ?claim= from a crafted URL
    at.run()
    _check(at)
