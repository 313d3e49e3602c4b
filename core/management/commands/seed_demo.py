"""Load Hong Kong demo data: a user in every role, vendors, portal users. Safe to run twice."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.roles import ROLES
from accounts.services import sync_roles, user_create
from core import context
from vendors.models import Vendor
from vendors.services import vendor_create

DEMO_PASSWORD = "steward-demo"

# Packages whose demo.seed() adds Hong Kong demo data, in dependency order.
DEMO_PACKAGES = ["kpis", "vendors", "customers", "service", "proposals"]

VENDORS = [
    ("harbourcall", "Harbour Call Centre Ltd", Vendor.Status.ACTIVE),
    ("kowloon-digital", "Kowloon Digital Marketing Co.", Vendor.Status.ACTIVE),
    ("tsuen-wan-logistics", "Tsuen Wan Logistics Services", Vendor.Status.ONBOARDING),
    ("lantau-it", "Lantau IT Managed Services", Vendor.Status.UNDER_REVIEW),
]

# (username, first, last, role, vendor code)
PEOPLE = [
    ("admin", "Ada", "Leung", "administrator", None),
    ("vendor.manager", "Vivian", "Chan", "vendor_manager", None),
    ("crm.staff", "Calvin", "Wong", "crm_staff", None),
    ("cs.manager", "Mandy", "Lau", "cs_manager", None),
    ("cs.agent", "Kelvin", "Ho", "cs_agent", None),
    ("marketing", "Maggie", "Tsang", "marketing", None),
    ("dpo", "Daniel", "Cheung", "data_protection_officer", None),
    ("auditor", "Alice", "Yip", "auditor", None),
    ("portal.harbourcall", "Priscilla", "Ng", "vendor_portal", "harbourcall"),
    ("portal.kowloon", "Patrick", "Lam", "vendor_portal", "kowloon-digital"),
]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        with context.acting_as(None, channel="command"), transaction.atomic():
            sync_roles()
            for code, name, status in VENDORS:
                if not Vendor.objects.filter(code=code).exists():
                    vendor_create(actor=None, code=code, name=name, status=status)
            for username, first, last, role, vendor_code in PEOPLE:
                if User.objects.filter(username=username).exists():
                    continue
                vendor = Vendor.objects.get(code=vendor_code) if vendor_code else None
                user_create(
                    username=username,
                    password=DEMO_PASSWORD,
                    roles=[role],
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.hk",
                    vendor=vendor,
                )
            # Each feature package adds its own demo data on top of the people and vendors.
            for package in DEMO_PACKAGES:
                import_module(f"{package}.demo").seed()
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})\n")
        for username, _first, _last, role, vendor_code in PEOPLE:
            extra = f" for {vendor_code}" if vendor_code else ""
            self.stdout.write(f"  {username:<22} {ROLES[role].label}{extra}\n")
