"""``erlen rest spec``: print or write the OpenAPI document of the app's APIs."""

from __future__ import annotations

import json
import typing as t

import click

from erlen import current_app
from erlen.cli import AppGroup

__all__ = ["rest_group"]

rest_group = AppGroup("rest", help="REST API tools (erlen-rest).")


def _documents() -> list[dict[str, t.Any]]:
    state = current_app.extensions["rest"]
    with current_app.test_request_context():
        return [api.__schema__ for api in state.apis]


@rest_group.command("spec")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "yaml"]),
    default="json",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file instead of printing.",
)
@click.option(
    "--api",
    "index",
    type=int,
    default=0,
    show_default=True,
    help="Which API, when the app has several (0 is the first).",
)
def spec_command(fmt: str, output: str | None, index: int) -> None:
    """Print (or write) the OpenAPI 3.1 document."""
    documents = _documents()
    if not documents:
        raise click.ClickException("The app has no erlen-rest API.")
    if not 0 <= index < len(documents):
        raise click.ClickException(
            f"There is no API number {index}; the app has {len(documents)}."
        )
    document = documents[index]
    if fmt == "yaml":
        try:
            import yaml
        except ImportError:
            raise click.ClickException(
                "YAML output needs PyYAML: pip install 'erlen-rest[yaml]'."
            ) from None
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(document, indent=2, sort_keys=False) + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"Wrote {output}")
    else:
        click.echo(text, nl=False)
