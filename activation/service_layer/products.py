"""The products headquarters stocks (admin): each a product code, a model and a kind."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from activation.service_layer.csr import Refused
from activation.services import Services
from activation.store import audit
from activation.store.inventory import Product

# Codes are keyed by people and sent to the warehouse: capitals, digits and dashes.
CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,11}")
KIND = re.compile(r"[a-z][a-z -]{0,19}")


class ProductRefused(Refused):
    """The product is not added; the message says why."""


@dataclass(frozen=True)
class ProductRow:
    """A product as the console and the command line list it."""

    code: str
    model: str
    kind: str


def add_product(services: Services, code: str, model: str, kind: str, actor: str) -> ProductRow:
    """Add a product headquarters can stock and ship."""
    code, model, kind = code.strip().upper(), " ".join(model.split()), kind.strip().lower()
    if not CODE.fullmatch(code):
        raise ProductRefused(
            f"A product code is 2 to 12 capital letters, digits or dashes, not {code[:20]!r}."
        )
    if not model or len(model) > 40 or not model.isprintable():
        raise ProductRefused("Give the model, up to 40 characters.")
    if not KIND.fullmatch(kind):
        raise ProductRefused("A kind is a word or two in letters, e.g. handset.")
    try:
        with services.db.transaction() as session:
            if session.get(Product, code) is not None:
                raise ProductRefused(f"There is a product {code} already.")
            session.add(Product(code=code, model=model, kind=kind))
            audit.record(session, "product", code, None, "added", actor, f"{model} ({kind})")
    except IntegrityError:  # the same code added at the same moment elsewhere
        raise ProductRefused(f"There is a product {code} already.") from None
    return ProductRow(code, model, kind)


def product_rows(services: Services) -> list[ProductRow]:
    """Every product, by code."""
    with services.db.read() as session:
        return [
            ProductRow(p.code, p.model, p.kind)
            for p in session.scalars(select(Product).order_by(Product.code))
        ]
