"""``claimtrack inquiry ...`` and ``claimtrack export ...`` (registered on ``main`` by importing this module).

    claimtrack inquiry ID [--as-of D] [--json]                 derived read + next lines
    claimtrack inquiry new "QUESTION" [--id ID] [--seed-claims ID,...] [--as-of D]
                           [--yes | --keep ID... | --drop ID...] [--json]
    claimtrack inquiry export ID [--out FILE]                  corpus YAML (inquiries.yaml entry)
    claimtrack export bibtex|jsonld|csv|prompt ID [--as-of D] [--out FILE]

``inquiry new`` shows the candidate claims grouped by family and asks which to drop (Enter keeps
them all); ``--yes`` keeps all, ``--keep``/``--drop`` decide by id, for scripts. Nothing is
written until every input has been checked; a bad input is one line on stderr, exit 1.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import click

from claimtrack.cli.base import as_of_option, emit, json_option, main, open_graph
from claimtrack.graph.errors import InputError
from claimtrack.graph.claim_graph import Graph
from claimtrack.graph.store import Store


class InquiryGroup(click.Group):
    """``inquiry ID`` reads an inquiry; ``inquiry new`` / ``inquiry export`` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@main.group(cls=InquiryGroup)
def inquiry() -> None:
    """Read an inquiry (`inquiry ID`), make one from a question (`inquiry new`), export it."""


@inquiry.command("show")
@click.argument("inquiry_id")
@as_of_option
@json_option
def inquiry_show(inquiry_id: str, as_of: str | None, as_json: bool) -> None:
    """An inquiry as of a date: question, honest read, claims, next inquiring lines."""
    from claimtrack.present.reading import read_inquiry, replication_notes

    graph = open_graph(inquiry=inquiry_id)  # its claims and their neighbours only (issue 23)
    r = read_inquiry(graph, inquiry_id, as_of)
    require_claims(graph, r)
    text = [r.inquiry.question, "", r.honest_read, "", "claims:"]
    for v in r.claims:
        text.append(f"  {v.status.status:<11} {v.id}")
        text += [f"              replication: {n}" for n in replication_notes(v)]
    text += ["", "next inquiring lines:"] + [f"  - {line}" for line in r.next_lines]
    emit(r.to_dict(), as_json, "\n".join(text))


def require_claims(graph: Graph, reading) -> None:
    """--as-of before any of the inquiry's claims: a one-line error, not an empty read."""
    if reading.claims:
        return
    dates = [v.claim.first_asserted for v in graph.claims(dt.date.max, ids=reading.inquiry.claims)]
    first = f"; its first claim dates from {min(dates)}" if dates else ""
    raise InputError(f"inquiry {reading.inquiry.id!r} has no claim asserted by {reading.as_of}{first}")


def _split(values: tuple[str, ...]) -> list[str]:
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def _show_candidates(prop) -> list[str]:
    lines, n = [f"Candidates for {prop.question!r} as of {prop.as_of} (inquiry id {prop.id}):"], 0
    numbered = []
    for family, cands in prop.families().items():
        lines.append(f"  {family}:")
        for c in cands:
            n += 1
            numbered.append(c.claim_id)
            lines.append(f"   {n:>2}. {c.claim_id} [{c.status}] — {c.why}")
            lines.append(textwrap.indent(textwrap.fill(c.statement, 96), "        "))
    click.echo("\n".join(lines), err=True)
    return numbered


def _decide(prop, numbered: list[str], yes: bool, keep: list[str], drop: list[str]) -> list[str]:
    ids = [c.claim_id for c in prop.candidates]
    for cid in keep + drop:
        if cid not in ids:
            raise InputError(f"{cid!r} is not a candidate of this inquiry (candidates: {', '.join(ids)})")
    if keep:
        return [i for i in ids if i in keep and i not in drop]
    if drop or yes:
        return [i for i in ids if i not in drop]
    answer = click.prompt("Drop which? (numbers or ids, space-separated; Enter keeps all)",
                          default="", show_default=False, err=True)
    dropped = set()
    for tok in answer.replace(",", " ").split():
        if tok.isdigit() and 1 <= int(tok) <= len(numbered):
            dropped.add(numbered[int(tok) - 1])
        elif tok in ids:
            dropped.add(tok)
        else:
            raise InputError(f"{tok!r} is neither a number 1-{len(numbered)} nor a candidate id")
    return [i for i in ids if i not in dropped]


@inquiry.command("new")
@click.argument("question")
@click.option("--id", "inquiry_id", help="Inquiry id (a slug; default: made from the question).")
@click.option("--seed-claims", multiple=True, metavar="ID[,ID]", help="Claims to start from.")
@as_of_option
@click.option("--yes", is_flag=True, help="Keep every candidate without asking.")
@click.option("--keep", multiple=True, metavar="ID[,ID]", help="Keep only these candidates.")
@click.option("--drop", multiple=True, metavar="ID[,ID]", help="Drop these candidates.")
@json_option
def inquiry_new(question: str, inquiry_id: str | None, seed_claims: tuple[str, ...],
                as_of: str | None, yes: bool, keep: tuple[str, ...], drop: tuple[str, ...],
                as_json: bool) -> None:
    """Make an inquiry from your own question: candidates, keep/drop, save."""
    from claimtrack.present import inquiries

    store = Store.open(create=False)
    graph = Graph(store)
    prop = inquiries.propose(store, graph, question, inquiry_id=inquiry_id,
                             seed_claims=_split(seed_claims), as_of=as_of)
    numbered = _show_candidates(prop)
    hint = inquiries.sharpen(prop)
    if hint and "error" in hint:
        click.echo(f"(chat model step skipped: {hint['error']})", err=True)
    elif hint:
        click.echo(f"Chat model suggests the wording: {hint['question']}", err=True)
        if hint["missing_families"]:
            click.echo(f"  and families the candidates miss: {', '.join(hint['missing_families'])}",
                       err=True)
    kept = _decide(prop, numbered, yes, _split(keep), _split(drop))
    inq = inquiries.save(store, prop.inquiry(kept))
    emit(inq.model_dump(mode="json"), as_json,
         f"saved inquiry {inq.id} with {len(inq.claims)} claims; read it with `claimtrack inquiry "
         f"{inq.id}`, prompt: `claimtrack prompt {inq.id}`, ship it: `claimtrack inquiry export {inq.id}`")


def _write(text: str, out: Path | None) -> None:
    """stdout, or the whole file at once (a temp file renamed: never half-written)."""
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    from claimtrack.present.exports import write_file

    write_file(out, text)  # a random O_EXCL temp, the old mode kept (issue 22)
    click.echo(f"wrote {out}", err=True)


out_option = click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                          help="Write to this file instead of stdout.")


@inquiry.command("export")
@click.argument("inquiry_id")
@out_option
def inquiry_export(inquiry_id: str, out: Path | None) -> None:
    """The inquiry as corpus YAML (an entry for corpus/data/inquiries.yaml)."""
    from claimtrack.present import inquiries

    _write(inquiries.export_yaml(Store.open(create=False), inquiry_id), out)


@main.command("export")
@click.argument("fmt", metavar="bibtex|jsonld|csv|prompt",
                type=click.Choice(["bibtex", "jsonld", "csv", "prompt"]))
@click.argument("inquiry_id")
@as_of_option
@out_option
def export(fmt: str, inquiry_id: str, as_of: str | None, out: Path | None) -> None:
    """An inquiry's papers (BibTeX), claims (JSON-LD, CSV) or research prompt (Markdown), as of D."""
    from claimtrack.present import exports

    store = Store.open(create=False)
    _write(exports.render(store, fmt, inquiry_id, as_of), out)
