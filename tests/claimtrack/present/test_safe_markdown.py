"""Paper and API text rendered as Markdown shows as text: no image, link or markup forms
(issue 22, "Paper text is rendered as Markdown").

The check renders with markdown-it-py (CommonMark + GFM tables/strikethrough, as Streamlit's
react-markdown does) and looks for any element that would fetch or link.

    python -m pytest tests/claimtrack/present/test_safe_markdown.py -q
"""

from __future__ import annotations

import pytest

from claimtrack.present import safe_markdown as sm

HOSTILE = [
    "![pixel](http://127.0.0.1:9/p.gif) Entropy collapse",
    "[click](javascript:alert(1)) and <img src=http://127.0.0.1:9/x.gif>",
    "Title\n# heading\n- list\n```\ncode",
    "**bold** _it_ ~~s~~ $x^2$ :red[red] :material/home: <script>alert(1)</script>",
    "https://127.0.0.1:9/autolink www.example.com <http://127.0.0.1:9/a>",
    "10.1234/x`![y](http://127.0.0.1:9/q.gif)`",
    "back\\slash \\![still](http://127.0.0.1:9/z.gif)",
]


def _render(md: str) -> str:
    mdi = pytest.importorskip("markdown_it")
    return mdi.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)


@pytest.mark.parametrize("raw", HOSTILE)
def test_escaped_text_renders_as_the_text_itself(raw):
    html = _render(f"**{sm.text(raw)}**")
    for tag in ("<img", "<a ", "<script", "<h1", "<li", "<code", "<em>", "<s>"):
        assert tag not in html, (raw, html)
    assert html.count("<strong>") == 1


@pytest.mark.parametrize("raw", HOSTILE)
def test_a_code_span_holds_any_text(raw):
    html = _render(sm.code(raw))
    assert "<img" not in html and "<a " not in html and html.count("<code>") == 1


def test_links_only_from_valid_arxiv_ids():
    assert sm.arxiv_link("2505.22617") == "[arXiv:2505.22617](https://arxiv.org/abs/2505.22617)"
    assert "<a " in _render(sm.arxiv_link("2505.22617"))
    bad = sm.arxiv_link("2505.22617)![x](http://127.0.0.1:9/p.gif")
    assert "<img" not in _render(bad) and "<a " not in _render(bad)


@pytest.mark.parametrize("raw", HOSTILE)
def test_text_with_code_keeps_code_spans_and_escapes_the_rest(raw):
    html = _render(sm.text_with_code(f"Run `claimtrack replicate run x` on {raw}"))
    assert "<img" not in html and "<a " not in html and "<code>claimtrack replicate run x</code>" in html
