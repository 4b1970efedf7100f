"""`cas inventory`: ship handsets to an agent, import a warehouse's CSV drop, receive, list;
add and list products."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from activation.services import Services

from .cli_support import existing_settings

DATA_DIR = click.option(
    "--data-dir", type=click.Path(file_okay=False), help="Where CAS keeps its files."
)


@contextmanager
def _services(data_dir: str | None) -> Iterator[Services]:
    from .bootstrap import bootstrap

    services = bootstrap(existing_settings(data_dir))
    try:
        yield services
    finally:
        services.db.dispose()


@click.group()
def inventory() -> None:
    """Handset stock: deliveries from headquarters to agents, and stock against minimums."""


@inventory.command()
@click.option("--agent", "agent_code", required=True, help="The agent's code (e.g. 1001).")
@click.option("--esn", "esns", multiple=True, required=True, help="An ESN shipped; repeat it.")
@click.option("--product", default=None, help="The product code of handsets not seen before.")
@DATA_DIR
def ship(agent_code: str, esns: tuple[str, ...], product: str | None, data_dir: str | None) -> None:
    """Ship handsets from headquarters to an agent (in transit until received)."""
    from activation.inventory.deliveries import Item
    from activation.service_layer.inventory import ShipmentRefused
    from activation.service_layer.inventory import ship as ship_them

    with _services(data_dir) as services:
        try:
            shipped = ship_them(
                services, agent_code, [Item(e.strip(), product) for e in esns], "cli", "cli"
            )
        except ShipmentRefused as refused:
            raise click.ClickException(f"nothing shipped: {refused}") from None
    click.echo(
        f"delivery {shipped.delivery_id}: {shipped.count} handsets in transit to agent "
        f"{shipped.agent_code}"
    )


@inventory.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DATA_DIR
def import_(file: Path, data_dir: str | None) -> None:
    """Ship what a warehouse's CSV file lists (columns agent_code, esn, product_code)."""
    from activation.service_layer.inventory import ShipmentRefused, import_csv

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not a UTF-8 text file") from None
    with _services(data_dir) as services:
        try:
            shipped = import_csv(services, text, "cli", file.name)
        except ShipmentRefused as refused:
            raise click.ClickException(f"nothing shipped from {file.name}: {refused}") from None
    for one in shipped:
        click.echo(
            f"delivery {one.delivery_id}: {one.count} handsets in transit to agent {one.agent_code}"
        )


@inventory.command()
@click.argument("delivery", type=int)
@DATA_DIR
def receive(delivery: int, data_dir: str | None) -> None:
    """Receive a delivery: its handsets join the agent's stock."""
    from activation.service_layer.inventory import DeliveryRefused
    from activation.service_layer.inventory import receive as receive_it

    with _services(data_dir) as services:
        try:
            count = receive_it(services, delivery, "cli")
        except DeliveryRefused as refused:
            raise click.ClickException(str(refused)) from None
    click.echo(f"delivery {delivery} received: {count} handsets in stock")


@inventory.command()
@DATA_DIR
def stock(data_dir: str | None) -> None:
    """List each agent's stock per product against its minimum."""
    from activation.service_layer.inventory import stock_lines

    with _services(data_dir) as services:
        lines = stock_lines(services)
    click.echo("agent  product  on_hand  in_transit  minimum  reorder")
    for line in lines:
        flag = "open" if line.reorder_open else ("SHORT" if line.short else "")
        click.echo(
            f"{line.agent_code:<6} {line.product_code:<8} {line.on_hand:>7} "
            f"{line.in_transit:>11} {line.minimum:>8}  {flag}"
        )


@inventory.group()
def product() -> None:
    """The products headquarters stocks."""


@product.command("add")
@click.argument("code")
@click.option("--model", required=True, help="The model, e.g. 'Motorola StarTAC'.")
@click.option("--kind", default="handset", show_default=True, help="What kind of product.")
@DATA_DIR
def product_add(code: str, model: str, kind: str, data_dir: str | None) -> None:
    """Add a product (CODE: 2 to 12 capital letters, digits or dashes)."""
    from activation.service_layer.products import ProductRefused, add_product

    with _services(data_dir) as services:
        try:
            added = add_product(services, code, model, kind, "cli")
        except ProductRefused as refused:
            raise click.ClickException(f"no product added: {refused}") from None
    click.echo(f"product {added.code} added: {added.model} ({added.kind})")


@product.command("list")
@DATA_DIR
def product_list(data_dir: str | None) -> None:
    """List the products, by code."""
    from activation.service_layer.products import product_rows

    with _services(data_dir) as services:
        rows = product_rows(services)
    for row in rows:
        click.echo(f"{row.code:<12} {row.kind:<12} {row.model}")
