"""Text from papers and APIs, made safe to put into Streamlit Markdown (issue 22).

Titles, abstracts, claim statements derived from them, citation contexts, DOIs and S2 intents come
from other people's servers. Rendered as Markdown, ``![x](https://tracker/p.gif)`` in a title
makes the reviewer's browser fetch a remote image (a tracking pixel), and ``[x](…)`` plants a
link. ``text()`` backslash-escapes every ASCII punctuation character (CommonMark §2.4: any of
them may be escaped, and an escaped one is shown literally), so no image, link, autolink,
emphasis, heading, HTML tag, math or ``:emoji:``/``:color[]`` directive can form; the reader sees
the text as it came. Links are only ever built by the app from a validated id (``arxiv_link``).

    st.markdown(f"**{safe_markdown.text(claim.statement)}**")
    st.markdown(safe_markdown.arxiv_link(paper.arxiv_id) + " " + safe_markdown.text(paper.title))

    python -m pytest tests/claimtrack/present/test_safe_markdown.py -q
"""

from __future__ import annotations

import re
import string

from claimtrack.graph.models import ARXIV_ID_RE

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")
_SPACE = re.compile(r"[\r\n\t\f\v]+")


def text(value: object) -> str:
    """``value`` as Markdown that renders as exactly that text, on one line (line breaks and tabs
    become spaces: a paper's text must not start a heading, list or code block)."""
    return _PUNCT.sub(r"\\\1", _SPACE.sub(" ", str(value if value is not None else "")))


def code(value: object) -> str:
    """An inline code span holding ``value`` literally, whatever backticks it contains."""
    raw = _SPACE.sub(" ", str(value if value is not None else ""))
    fence = "`" * (max((len(m) for m in re.findall(r"`+", raw)), default=0) + 1)
    return f"{fence} {raw} {fence}"


def text_with_code(value: object) -> str:
    """``text`` for everything outside single-backtick code spans, which pass as they are: a
    line the app wrote with a command in backticks, around text from elsewhere. Inside a code
    span nothing renders (no image, no link), so an attacker's backticks gain nothing."""
    parts = re.split(r"(`[^`\r\n]+`)", str(value if value is not None else ""))
    return "".join(p if i % 2 else text(p) for i, p in enumerate(parts))


def arxiv_link(arxiv_id: str) -> str:
    """``[arXiv:ID](https://arxiv.org/abs/ID)`` for a valid arXiv id; the escaped text otherwise."""
    if not isinstance(arxiv_id, str) or not ARXIV_ID_RE.match(arxiv_id):
        return text(arxiv_id)
    return f"[arXiv:{arxiv_id}](https://arxiv.org/abs/{arxiv_id})"
