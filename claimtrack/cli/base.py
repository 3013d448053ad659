"""What every ``claimtrack`` command shares: the ``main`` group, one-line errors, ``--json`` and
``--as-of`` options, and printing. Commands live in ``commands``, ``inquiry`` and ``living``;
``claimtrack.cli`` registers them all on ``main``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from claimtrack.graph.claim_graph import Graph
from claimtrack.graph.errors import ClaimtrackError
from claimtrack.graph.store import Store


class UsageLine(click.ClickException):
    """A usage error as one line (click prints usage, a hint and the error: four lines); exit 2."""

    exit_code = 2


class Group(click.Group):
    """Turns library errors and usage errors into one line on stderr (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            path = exc.ctx.command_path if exc.ctx else "claimtrack"
            raise UsageLine(f"{exc.format_message()} (see `{path} --help`)") from None
        except ClaimtrackError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None


def open_graph(inquiry: str | None = None) -> Graph:
    """The graph of the store; for ``inquiry``, only around its claims (a known inquiry's read
    then costs the same at 100k claims as at 64)."""
    store = Store.open(create=False)
    inq = store.inquiry(inquiry) if inquiry else None
    return Graph(store, around=inq.claims) if inq else Graph(store)


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
