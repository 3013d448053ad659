"""The living-graph commands, registered on ``claimtrack`` by ``claimtrack.cli``:

    claimtrack watch [--since D] [--inquiry ID]... [--json]
    claimtrack review [--accept ID]... [--reject ID]... [--as STANCE] [--by NAME] [--all] [--json]
    claimtrack diff --from D1 [--to D2] [--inquiry ID] [--json]

Progress goes to stderr, data to stdout; errors are one line on stderr with exit code 1.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import click

from claimtrack.graph.claim_graph import Graph, parse_date
from claimtrack.graph.store import Store

# = claimtrack.literature.stance.STANCES (tests/claimtrack/test_search.py checks): importing stance pulls in
# langchain and httpx, ~0.8 s CPU on every `claimtrack` start, for one option's choices.
STANCES = ("supports", "contradicts", "qualifies", "mentions")


def _emit(data: Any, as_json: bool, human: str) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str) if as_json else human)


@click.command()
@click.option("--since", metavar="YYYY-MM-DD",
              help="Look at papers from this date (default: each source's last check, or 30 days ago).")
@click.option("--inquiry", "inquiry_ids", multiple=True, metavar="ID",
              help="Only this inquiry's claims and saved queries (repeatable; default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a summary.")
@click.option("--daily", is_flag=True, hidden=True,
              help="The worker's daily run: only with CLAIMTRACK_WATCH=1 and once a day.")
def watch(since: str | None, inquiry_ids: tuple[str, ...], as_json: bool, daily: bool) -> None:
    """Find new papers and citing papers of tracked claims; queue candidate evidence for review."""
    from claimtrack.literature.watch import Watcher, run_daily

    if daily:
        run_daily(Store.open(create=False), echo=lambda msg: click.echo(msg, err=True))
        return
    start = parse_date(since) if since else None
    report = Watcher(Store.open(create=False)).run(list(inquiry_ids), since=start)
    _emit(report.to_dict(), as_json, report.summary())


def _item_text(c) -> str:
    head = (f"{c.id}  {c.suggested:<11} {c.claim}  ← {c.title[:70] or c.paper_key} "
            f"[{c.found_by}{', ' + str(c.published) if c.published else ''}]")
    lines = [head, f"    why: {c.why}" + (f" (intents: {', '.join(c.intents)})" if c.intents else "")]
    for ctx in c.contexts[:3]:
        lines += textwrap.wrap(f"“{ctx}”", 100, initial_indent="    ", subsequent_indent="     ")
    lines += [f"    ! {w}" for w in c.warnings]
    return "\n".join(lines)


@click.command()
@click.option("--accept", multiple=True, metavar="ID", help="Accept this item (repeatable).")
@click.option("--reject", multiple=True, metavar="ID", help="Reject this item (repeatable).")
@click.option("--as", "stance", type=click.Choice(STANCES),
              help="Accept as this stance instead of the suggested one.")
@click.option("--by", "by", metavar="NAME", help="Reviewer name (default: $CLAIMTRACK_REVIEWER or login).")
@click.option("--all", "show_all", is_flag=True, help="List decided items too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def review(accept: tuple[str, ...], reject: tuple[str, ...], stance: str | None, by: str | None,
           show_all: bool, as_json: bool) -> None:
    """List candidate evidence waiting for review; accept (it becomes dated evidence) or reject."""
    from claimtrack.literature import review as rv

    store = Store.open(create=False)
    if not accept and not reject:
        if stance:
            raise click.UsageError("--as goes with --accept")
        items = rv.candidates(store, state=None if show_all else "pending")
        _emit([c.model_dump(mode="json") for c in items], as_json,
              "\n".join(_item_text(c) for c in items) or "nothing to review")
        return
    out, lines = [], []
    for cand, ev in rv.decide(store, accept, reject, stance=stance, by=by):  # all or nothing
        if ev is None:
            out.append(cand.model_dump(mode="json"))
            lines.append(f"{cand.id} rejected")
            continue
        status = Graph(store).claim(cand.claim).status
        out.append({**cand.model_dump(mode="json"), "evidence": ev.model_dump(mode="json"),
                    "claim_status": status.to_dict()})
        lines.append(f"{cand.id} accepted as {cand.stance}: {ev.id} on {cand.claim} "
                     f"(dated {ev.date}); {cand.claim} is now {status.status}")
    _emit(out, as_json, "\n".join(lines))


@click.command()
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD", help="The earlier date.")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="The later date (default: today).")
@click.option("--inquiry", "inquiry_id", metavar="ID", help="Only this inquiry's claims.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def diff(start: str, end: str | None, inquiry_id: str | None, as_json: bool) -> None:
    """What changed between two dates: claims added, statuses moved and why, contradictions, replications."""
    from claimtrack.present.diff import graph_diff

    d = graph_diff(Graph(Store.open(create=False)), start, end, inquiry_id)
    _emit(d.to_dict(), as_json, "\n".join(d.lines()))


COMMANDS = (watch, review, diff)
