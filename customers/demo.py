"""Demo data of the customers package: ``seed()`` calls the seed of each topic."""

from __future__ import annotations


def seed() -> None:
    # --- privacy requests, retention, breaches, data quality, duplicates (c3) ---
    from customers.demo_privacy import seed_privacy

    seed_privacy()
