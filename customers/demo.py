"""Demo data of the customers package, loaded by ``manage.py seed_demo`` (idempotent)."""

from __future__ import annotations

from customers.demo_consent import seed_consent

__all__ = ["seed", "seed_consent"]


def seed() -> None:
    seed_consent()
