"""Demo data of the customers package, loaded by ``manage.py seed_demo`` (idempotent)."""

from __future__ import annotations


def seed() -> None:
    seed_privacy()


# --- privacy (c2) ---


def seed_privacy() -> None:
    """PICS versions, a checkout form, consents, an opt-out, a processor with its checklist."""
    from customers.demo_privacy import seed_privacy as load

    load()
