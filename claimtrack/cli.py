"""The ``claimtrack`` command line.

    claimtrack init [--force]                  build/update the store from the shipped corpus
    claimtrack claims [--as-of D] [--topic T] [--status S] [--json]
    claimtrack show CLAIM_ID [--as-of D] [--json]
    claimtrack papers [--json]
    claimtrack inquiries [--json]
    claimtrack inquiry ID [--as-of D] [--json]
    claimtrack prompt ID [--as-of D] [--out FILE]
    claimtrack evidence import RESULT.json [--ship]

Data goes to stdout (a table, or JSON with ``--json``); errors are one line on stderr with exit
code 1 and no traceback. The store lives under ``$CLAIMTRACK_HOME`` (default ~/.claimtrack).
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from claimtrack.errors import ClaimtrackError
from claimtrack.graph import ClaimView, Graph, parse_date
from claimtrack.models import TOPICS
from claimtrack.status import STATUSES
from claimtrack.store import Store


class Group(click.Group):
    """Turns library errors into one line on stderr (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClaimtrackError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None


def open_graph() -> Graph:
    return Graph(Store.open(create=False))


def emit(data: Any, as_json: bool, human: str) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str) if as_json else human)


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(fn)


def as_of_option(fn):
    return click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
                        help="Replay the graph as of this date (default: today).")(fn)


@click.group(cls=Group)
@click.version_option(package_name="claimtrack")
def main() -> None:
    """A dated graph of ML-paper claims, re-tested by small replication runs."""


@main.command()
@click.option("--force", is_flag=True, help="Rebuild from scratch (the old store is kept as a backup).")
@click.option("--corpus", "corpus_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Corpus folder to build from (default: the shipped corpus/data).")
def init(force: bool, corpus_dir: Path | None) -> None:
    """Build the store from the shipped corpus; running it again changes nothing."""
    from claimtrack import loader

    store, summary = loader.init(force=force, data_dir=corpus_dir)
    store.close()
    click.echo(summary)


def _claim_row(v: ClaimView) -> str:
    flags = f" [{','.join(v.status.flags)}]" if v.status.flags else ""
    src = v.claim.sources[0]
    return f"{v.id:<40} {v.status.status:<11} {v.claim.topic:<20} {src:<11} {v.claim.first_asserted}{flags}"


@main.command()
@as_of_option
@click.option("--topic", type=click.Choice(TOPICS), help="Only this bottleneck family.")
@click.option("--status", type=click.Choice(STATUSES), help="Only claims with this status.")
@json_option
def claims(as_of: str | None, topic: str | None, status: str | None, as_json: bool) -> None:
    """List claims with their status as of a date."""
    views = open_graph().claims(parse_date(as_of), topic=topic, status=status)
    header = f"{'id':<40} {'status':<11} {'topic':<20} {'source':<11} asserted"
    emit([v.to_dict() for v in views], as_json, "\n".join([header] + [_claim_row(v) for v in views]))


def _show_text(v: ClaimView) -> str:
    c, s = v.claim, v.status
    out = [f"{c.id}: {c.statement}", "",
           f"status as of {s.as_of}: {s.status} — {s.reason}"
           + (f" (because: {', '.join(s.because)})" if s.because else ""),
           f"flags: {', '.join(s.flags) or 'none'}",
           f"topic: {c.topic}   kind: {c.kind}   first asserted: {c.first_asserted}",
           f"scope: {c.scope or '—'}", "sources:"]
    out += [f"  arXiv:{p.arxiv_id} {p.title} ({p.first_submitted}) {p.url}" for p in v.papers]
    if c.quantities:
        out.append("quantities:")
        out += [f"  {q.name}: {q.value}" + ("" if q.verified else " (unverified)") for q in c.quantities]
    if c.prediction:
        out.append(f"prediction ({c.prediction.experiment}): {c.prediction.text}")
    out.append("evidence:")
    for e in v.evidence:
        flags = f" [{', '.join(e.flags)}]" if e.flags else ""
        out.append(f"  {e.date} {e.kind:<12} {e.direction:<12} {e.strength:<8} {e.source}{flags}")
        out += ["      " + line for line in textwrap.wrap(e.summary, 90)]
    if not v.evidence:
        out.append("  (none: only its own source asserts it)")
    out.append("relations:")
    for r in v.relations:
        out.append(f"  {r.source} —{r.kind}→ {r.target} ({r.date}, {r.source_ref or r.asserted_by})")
    return "\n".join(out)


@main.command()
@click.argument("claim_id")
@as_of_option
@json_option
def show(claim_id: str, as_of: str | None, as_json: bool) -> None:
    """Statement, sources, status and why, evidence timeline and relations of one claim."""
    v = open_graph().claim(claim_id, parse_date(as_of))
    emit(v.to_dict(), as_json, _show_text(v))


@main.command()
@json_option
def papers(as_json: bool) -> None:
    """List the papers in the store."""
    ps = open_graph().papers()
    rows = [f"{p.arxiv_id:<12} {p.latest_version:<4} {p.first_submitted} {p.title[:80]}" for p in ps]
    emit([p.model_dump(mode="json") for p in ps], as_json, "\n".join(rows))


@main.command()
@json_option
def inquiries(as_json: bool) -> None:
    """List the inquiries."""
    qs = open_graph().inquiries()
    emit([q.model_dump(mode="json") for q in qs], as_json,
         "\n".join(f"{q.id:<32} {q.question}" for q in qs))


@main.command()
@click.argument("inquiry_id")
@as_of_option
@json_option
def inquiry(inquiry_id: str, as_of: str | None, as_json: bool) -> None:
    """An inquiry as of a date: question, honest read, claims, next inquiring lines."""
    from claimtrack.reading import read_inquiry, replication_notes

    r = read_inquiry(open_graph(), inquiry_id, as_of)
    text = [r.inquiry.question, "", r.honest_read, "", "claims:"]
    for v in r.claims:
        text.append(f"  {v.status.status:<11} {v.id}")
        text += [f"              replication: {n}" for n in replication_notes(v)]
    text += ["", "next inquiring lines:"] + [f"  - {line}" for line in r.next_lines]
    emit(r.to_dict(), as_json, "\n".join(text))


@main.command()
@click.argument("inquiry_id")
@as_of_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
def prompt(inquiry_id: str, as_of: str | None, out: Path | None) -> None:
    """A research prompt for an LLM, grounded in the graph as of a date."""
    from claimtrack.prompt import build_prompt

    text = build_prompt(open_graph(), inquiry_id, as_of)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text)


@main.group()
def evidence() -> None:
    """Add evidence to the graph."""


@evidence.command("import")
@click.argument("result", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--ship", is_flag=True,
              help="Also copy the result into corpus/data/results/ so it ships with the corpus.")
def import_(result: Path, ship: bool) -> None:
    """Import a replication result file (or a run folder holding result.json)."""
    from claimtrack import replication
    from corpus import snapshot

    if result.is_dir():
        result = result / "result.json"
    store = Store.open(create=False)
    added, new = replication.import_result(store, result)
    if ship:
        run = replication.read_result(result)
        dest = snapshot.DATA_DIR / snapshot.RESULTS_DIR
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result, dest / f"{run.run_id}.json")
    click.echo(f"{'imported' if new else 'already imported'} {result}: {added} new evidence")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
