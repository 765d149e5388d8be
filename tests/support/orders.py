"""Canonical documents made from the example partners' real sample files."""

from __future__ import annotations

from gateway.model import PurchaseOrder
from gateway.pipeline.process import SetResult, translate
from gateway.settings import Settings


def sample_order(partner: str = "bigbox", name: str = "850.x12") -> PurchaseOrder:
    """The one purchase order of ``partners/<partner>/samples/<name>``, through the pipeline."""
    settings = Settings()
    source = (settings.partners_dir / partner / "samples" / name).read_bytes()
    (result,) = [
        r for r in translate(source, mappings_dir=settings.mappings_dir) if isinstance(r, SetResult)
    ]
    assert result.ok, result.errors
    assert isinstance(result.document, PurchaseOrder)
    return result.document
