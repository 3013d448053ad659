"""The ``claimtrack`` command line.

    claimtrack init [--force]                  build/update the store from the shipped corpus
    claimtrack claims [--as-of D] [--topic T] [--status S] [--json]
    claimtrack show CLAIM_ID [--as-of D] [--json]
    claimtrack papers [--json]
    claimtrack inquiries [--json]
    claimtrack inquiry ID [--as-of D] [--json]  |  inquiry new "QUESTION"  |  inquiry export ID
    claimtrack export bibtex|jsonld|csv|prompt INQUIRY_ID [--as-of D] [--out FILE]
    claimtrack prompt ID [--as-of D] [--out FILE]
    claimtrack evidence import RESULT.json [--ship]
    claimtrack replicate run EXPERIMENT --scale smoke|gpu [--seeds N] [--device D] [--json]
    claimtrack worker [--backend local|ray] [--address ADDR] [--once] [--max-jobs N] [--poll S]
    claimtrack jobs [--json]   |   claimtrack jobs cancel ID   |   claimtrack jobs logs ID
    claimtrack ingest arxiv ID... | --query Q [--max N] [--since D]  [--no-extract] [--no-link] [--json]
    claimtrack search TEXT [--kind claims|papers] [--k N] [--mode hybrid|bm25|vector] [--as-of D] [--json]
    claimtrack relations review [--accept ID]... [--reject ID]... [--json]
    claimtrack relations suggest [CLAIM_ID ...] [--k N] [--min-score S] [--json]
    claimtrack watch [--since D] [--inquiry ID]   |   claimtrack review [--accept ID] [--reject ID] [--as S]
    claimtrack diff --from D1 [--to D2] [--inquiry ID] [--json]

Data goes to stdout (a table, or JSON with ``--json``); errors are one line on stderr with exit
code 1 and no traceback. The store lives under ``$CLAIMTRACK_HOME`` (default ~/.claimtrack).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import click

from claimtrack.cli.base import as_of_option, emit, json_option, main, open_graph
from claimtrack.graph.errors import ClaimtrackError, InputError
from claimtrack.cli.claim_text import claim_row, legend_terms, show_text
from claimtrack.cli.json_stream import write_lines
from claimtrack.graph.claim_graph import Graph, parse_date
from claimtrack.graph.legend import legend_for
from claimtrack.graph.models import TOPICS
from claimtrack.graph.status import STATUSES
from claimtrack.graph.store import Store


@main.command()
@click.option("--force", is_flag=True, help="Rebuild from scratch (the old store is kept as a backup).")
@click.option("--corpus", "corpus_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Corpus folder to build from (default: the shipped corpus/data).")
def init(force: bool, corpus_dir: Path | None) -> None:
    """Build the store from the shipped corpus; running it again changes nothing."""
    from claimtrack.literature import loader

    store, summary = loader.init(force=force, data_dir=corpus_dir)
    store.close()
    click.echo(summary)


@main.command()
@as_of_option
@click.option("--topic", type=click.Choice(TOPICS), help="Only this bottleneck family.")
@click.option("--status", type=click.Choice(STATUSES), help="Only claims with this status.")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many claims.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many claims first.")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="One JSON object per line (JSON Lines).")
@json_option
def claims(as_of: str | None, topic: str | None, status: str | None, limit: int | None,
           offset: int, as_jsonl: bool, as_json: bool) -> None:
    """List claims with their status as of a date, oldest first (streamed: memory stays bounded)."""
    from claimtrack.graph import listing, listing_lines

    # JSON: each claim's stored line, the bytes its views' to_dict() encodes to (listing_lines;
    # issue 23: 22 s -> a few s at 100k by assembling records, then one scan of stored lines);
    # the table needs the views
    read = listing_lines.stream if as_json or as_jsonl else listing.views
    views = read(Store.open(create=False), parse_date(as_of), topic=topic, status=status,
                 limit=limit, offset=offset)
    # read the first page before printing anything: a bad row there is one line, not half a table
    first = next(views, None)
    views = itertools.chain([first] if first else [], views)
    out = sys.stdout
    if as_json or as_jsonl:  # a JSON array streamed one claim per line, or JSON Lines, as bytes
        out.flush()
        write_lines(out.buffer, views, lines=as_jsonl)
        return
    out.write(f"{'id':<40} {'status':<11} {'topic':<20} {'source':<11} asserted\n")
    for v in views:
        out.write(claim_row(v) + "\n")


@main.command()
@click.argument("claim_id")
@as_of_option
@json_option
def show(claim_id: str, as_of: str | None, as_json: bool) -> None:
    """Statement, sources, status and why, evidence timeline and relations of one claim."""
    v = Graph(Store.open(create=False), around=[claim_id]).claim(claim_id, parse_date(as_of))
    data = {**v.to_dict(), "legend": dict(legend_for(legend_terms(v)))}
    emit(data, as_json, show_text(v))


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
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
def prompt(inquiry_id: str, as_of: str | None, out: Path | None) -> None:
    """A research prompt for an LLM, grounded in the graph as of a date."""
    from claimtrack.cli.inquiry import require_claims
    from claimtrack.present.prompt import build_prompt
    from claimtrack.present.reading import read_inquiry

    graph = open_graph()
    require_claims(graph, read_inquiry(graph, inquiry_id, as_of))
    text = build_prompt(graph, inquiry_id, as_of)
    if out:
        from claimtrack.present.exports import write_file

        if not out.parent.is_dir():
            raise InputError(f"cannot write {out}: the folder {out.parent} does not exist")
        write_file(out, text)
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
    from claimtrack.runs import replication
    from corpus import snapshot

    if result.is_dir():
        result = result / "result.json"
    store = Store.open(create=False)
    added, new = replication.import_result(store, result)
    flags = (store.run(replication.read_result(result).run_id) or {}).get("data", {}).get("flags", [])
    note = f" [{', '.join(flags)}]" if flags else ""
    if "external" in flags:
        note += " (external: moves no status until `claimtrack evidence accept RUN_ID --by NAME`)"
    click.echo(f"{'imported' if new else 'already imported'} {result}: {added} new evidence{note}")
    if ship:  # refuses an external, unaccepted run in one line (issue 22)
        dest = replication.ship(store, result, snapshot.DATA_DIR / snapshot.RESULTS_DIR)
        click.echo(f"shipped as {dest}")


@evidence.command("accept")
@click.argument("run_id")
@click.option("--by", required=True, help="Who accepts it (recorded with the evidence).")
def accept(run_id: str, by: str) -> None:
    """Accept an external replication run's evidence so that it can move statuses."""
    from claimtrack.runs import replication

    new = replication.accept_external(Store.open(create=False), run_id, by)
    click.echo(f"accepted {len(new)} piece(s) of evidence from run {run_id}: "
               + ", ".join(e.id for e in new))


# -- replication jobs (claimtrack.runs.jobs, claimtrack.runs.worker, claimtrack.runs.ray_backend) ------------
@main.group()
def replicate() -> None:
    """Queue replication runs for a worker (`claimtrack worker`) to run."""


@replicate.command("run")
@click.argument("experiment")
@click.option("--scale", required=True, type=click.Choice(["smoke", "gpu"]),
              help="smoke: minutes on a CPU; gpu: the real run, one GPU.")
@click.option("--seeds", type=int, default=1, show_default=True, help="Number of seeds.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@json_option
def replicate_run(experiment: str, scale: str, seeds: int, device: str, as_json: bool) -> None:
    """Validate a replication run and queue it; prints the job id."""
    from claimtrack.runs import jobs

    job = jobs.enqueue(Store.open(create=False), experiment, scale, seeds=seeds, device=device)
    emit(job.model_dump(mode="json"), as_json, job.id)


@main.command()
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: run jobs here, one at a time; ray: submit them as Ray tasks.")
@click.option("--address", help="Ray cluster address (ray backend; default: start Ray on 127.0.0.1).")
@click.option("--once", is_flag=True, help="Exit when no job is queued or running.")
@click.option("--max-jobs", type=click.IntRange(min=1), help="Exit after this many jobs.")
@click.option("--poll", type=click.FloatRange(min=0.05), help="Seconds between queue polls (default 2).")
def worker(backend: str, address: str | None, once: bool, max_jobs: int | None,
           poll: float | None) -> None:
    """Run queued replication jobs (Ctrl-C gives the running job back to the queue)."""
    store = Store.open(create=False)
    say = lambda msg: click.echo(msg, err=True)  # noqa: E731
    if backend == "ray":
        from claimtrack.runs.ray_backend import RayWorker

        n = RayWorker(store, address=address, poll=poll, echo=say).run(once=once, max_jobs=max_jobs)
    else:
        if address:
            raise click.UsageError("--address is for --backend ray")
        from claimtrack.runs.worker import Worker

        n = Worker(store, poll=poll, echo=say).run(once=once, max_jobs=max_jobs)
    say(f"worker done: {n} job(s) run")


def _job_row(j) -> str:
    p = j.progress
    prog = f"{p.get('step', '?')}/{p.get('of', '?')} seed {p.get('seed', '?')}" if p else ""
    return (f"{j.id:<23} {j.state:<9} {j.experiment:<24} {j.scale:<5} {j.seeds:>2}x {j.device:<6} "
            f"{prog:<18} {j.error or j.run_id or ''}")


@main.group(invoke_without_command=True)
@json_option
@click.pass_context
def jobs(ctx: click.Context, as_json: bool) -> None:
    """List replication jobs, newest first (see also `jobs cancel`, `jobs logs`)."""
    if ctx.invoked_subcommand is not None:
        return
    from claimtrack.runs import jobs as jobs_

    js = jobs_.list_jobs(Store.open(create=False))
    header = f"{'id':<23} {'state':<9} {'experiment':<24} {'scale':<5} seeds device progress"
    emit([j.model_dump(mode="json") for j in js], as_json,
         "\n".join([header] + [_job_row(j) for j in js]))


@jobs.command("cancel")
@click.argument("job_id")
def jobs_cancel(job_id: str) -> None:
    """Cancel a job: a queued one at once, a running one is stopped by its worker."""
    from claimtrack.runs import jobs as jobs_

    job = jobs_.cancel(Store.open(create=False), job_id)
    click.echo(f"job {job.id}: {'cancelled' if job.state == 'cancelled' else 'cancel requested'}")


@jobs.command("logs")
@click.argument("job_id")
def jobs_logs(job_id: str) -> None:
    """Print a job's log (the replication's output, one header per attempt)."""
    from claimtrack.runs import jobs as jobs_

    click.echo(jobs_.job_log(Store.open(create=False), job_id), nl=False)


# -- ingest / search / relations (issue 3) -----------------------------------------------------
@main.group()
def ingest() -> None:
    """Bring new papers in (candidate claims are extracted on the way)."""


@ingest.command("arxiv")
@click.argument("ids", nargs=-1)
@click.option("--query", help="An arXiv search query instead of ids, e.g. 'cat:cs.LG AND abs:entropy'.")
@click.option("--max", "max_results", type=click.IntRange(min=1), default=100, show_default=True,
              help="At most this many papers (with --query).")
@click.option("--since", metavar="YYYY-MM-DD", help="Only papers first submitted on or after (with --query).")
@click.option("--no-extract", is_flag=True, help="Store the papers only, without candidate claims.")
@click.option("--no-link", is_flag=True, help="Do not suggest relations for the new claims.")
@json_option
def ingest_arxiv(ids: tuple[str, ...], query: str | None, max_results: int, since: str | None,
                 no_extract: bool, no_link: bool, as_json: bool) -> None:
    """Fetch papers from arXiv ($CLAIMTRACK_ARXIV_URL) by id or query and store them."""
    from claimtrack.literature import ingest as ing
    from claimtrack.literature import linking

    store = Store.open()
    report, suggested = ing.ingest(
        store, ids=list(ids), query=query, max_results=max_results,
        since=parse_date(since) if since else None, extract=not no_extract, link=not no_link,
        progress=sys.stderr.isatty())
    lines = [f"{s['arxiv_id']:<16} {s['version']:<4} {s['change']:<14} {s['title'][:70]}"
             for s in report.stored]
    lines += [f"{i:<16} up to date" for i in report.skipped]
    for entry in report.malformed:
        click.echo(f"skipped a feed entry whose id is not an arXiv id: {entry!r}", err=True)
    lines.append(report.summary() + f", {len(suggested)} suggested relations "
                 "(review: claimtrack relations review)")
    emit({**report.to_dict(), "suggested": [linking.rid(r) for r in suggested]}, as_json, "\n".join(lines))
    if report.unknown:
        raise ing.IngestError(f"not found on arXiv: {', '.join(report.unknown)} "
                              f"(the other {len(report.stored) + len(report.skipped)} were handled)")


@main.command()
@click.argument("text")
@click.option("--kind", type=click.Choice(["claims", "papers"]), default="claims", show_default=True)
@click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="How many hits.")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "vector"]), default="hybrid",
              show_default=True, help="BM25 + vectors fused, or one of them alone.")
@as_of_option
@json_option
def search(text: str, kind: str, k: int, mode: str, as_of: str | None, as_json: bool) -> None:
    """Search claims or papers by name, id, author or meaning (claimtrack.search.hybrid)."""
    from claimtrack.search import hybrid as search_

    hits = search_.search(Store.open(create=False), text, kind=kind, k=k, as_of=as_of, mode=mode)
    rows = [f"{h.score:6.4f}  {h.id:<34} {h.text[:90]}" for h in hits]
    emit([h.to_dict() for h in hits], as_json, "\n".join(rows) or "no hits")


@main.group()
def relations() -> None:
    """Suggested relations between claims, and their review."""


def _suggestion_row(store: Store, r) -> str:
    from claimtrack.literature.linking import rid

    a, b = store.claim(r.source), store.claim(r.target)
    return (f"{rid(r)}  {r.score or 0:.2f}  {r.source} —{r.kind}→ {r.target}\n"
            f"    new:      {(a.statement if a else '?')[:100]}\n"
            f"    existing: {(b.statement if b else '?')[:100]}\n    {r.note}")


@relations.command("review")
@click.option("--accept", multiple=True, metavar="ID", help="Accept this suggestion (repeatable).")
@click.option("--reject", multiple=True, metavar="ID", help="Reject this suggestion (repeatable).")
@json_option
def relations_review(accept: tuple[str, ...], reject: tuple[str, ...], as_json: bool) -> None:
    """List suggested relations; accept or reject them by id (r-xxxxxxxx)."""
    from claimtrack.literature import linking

    store = Store.open(create=False)
    if not accept and not reject:
        pend = linking.pending(store)
        emit([{"id": linking.rid(r), **r.model_dump(mode="json")} for r in pend], as_json,
             "\n".join(_suggestion_row(store, r) for r in pend) or "no suggestions to review")
        return
    done = [linking.decide(store, i, True) for i in accept]
    done += [linking.decide(store, i, False) for i in reject]
    emit([{"id": linking.rid(r), **r.model_dump(mode="json")} for r in done], as_json,
         "\n".join(f"{linking.rid(r)} {r.state}: {r.source} —{r.kind}→ {r.target}" for r in done))


@relations.command("suggest")
@click.argument("claim_ids", nargs=-1)
@click.option("--k", "k", type=click.IntRange(min=1), default=3, show_default=True,
              help="At most this many suggestions per claim.")
@click.option("--min-score", type=click.FloatRange(-1, 1), default=0.5, show_default=True,
              help="Minimum cosine similarity.")
@json_option
def relations_suggest(claim_ids: tuple[str, ...], k: int, min_score: float, as_json: bool) -> None:
    """Suggest relations for claims (default: extracted candidates that have none yet)."""
    from claimtrack.literature import linking
    from claimtrack.graph.errors import NotFoundError

    store = Store.open(create=False)
    ids = list(claim_ids)
    for cid in ids:
        if store.claim(cid) is None:
            raise NotFoundError(f"no claim {cid!r}")
    if not ids:
        linked = {x for r in store.relations(state=None) for x in (r.source, r.target)}
        ids = [c.id for c in store.claims() if not c.curated and c.id not in linked]
    new = linking.suggest(store, ids, stance=linking.Stance.from_settings(), k=k, min_score=min_score)
    emit([{"id": linking.rid(r), **r.model_dump(mode="json")} for r in new], as_json,
         "\n".join(_suggestion_row(store, r) for r in new) + f"\n{len(new)} new suggestions")
