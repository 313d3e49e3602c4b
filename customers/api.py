"""API of the customers package. Sub-routers of each feature are added below."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["customers"])
