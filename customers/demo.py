"""Demo data of the customers package, loaded by ``manage.py seed_demo`` (idempotent).

The customers and their orders come first (through the real import path); then the collection
statements and consents, and the DPO's requests, retention, quality and duplicates build on them.
"""

from __future__ import annotations

from customers.demo_consent import seed_consent
from customers.demo_privacy import seed_privacy
from customers.demo_sales import seed_customers

__all__ = ["seed", "seed_consent", "seed_customers", "seed_privacy"]


def seed() -> None:
    seed_customers()
    seed_consent()
    seed_privacy()
