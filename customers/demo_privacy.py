"""Demo data for the data-protection work: customers with quality problems and a duplicate pair,
privacy requests at each stage of the 40-day clock, a refusal in the log book, retention rules with a
dry run, and a breach. Everything goes through the services as Daniel (the DPO, user ``dpo``) would.
Needs the demo users (and, for correction notices, the vendor demo's information-exchange register).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from customers import breaches, disclosures, duplicates, privacy, quality, retention
from customers.models import Customer, Order, OrderLine
from customers.privacy_models import PrivacyRequest, RefusalGround
from vendors.models import DataExchange, DataFlow

# (given, family, chinese, e-mail, phone, address, district)
PEOPLE = [
    (
        "Siu Ming",
        "Chan",
        "陳小明",
        "siuming.chan@example.com",
        "+852 9123 4567",
        "Flat 12A, 8 Nathan Road",
        "Yau Tsim Mong",
    ),
    ("Siu-ming", "Chen", "", "", "91234567", "Flat 12A, 8 Nathan Rd", "Yau Tsim Mong"),
    (
        "Ka Yan",
        "Wong",
        "黃嘉欣",
        "kayan.wong@example.com",
        "+852 6234 5678",
        "Flat 3B, 20 Shing Yip Street",
        "Kwun Tong",
    ),
    (
        "Wai Man",
        "Lee",
        "李偉文",
        "waiman.lee@example",
        "+852 5345 6789",
        "Room 5, 2/F, 11 Fuk Wing Street",
        "Sham Shui Po",
    ),
    (
        "Mei Ling",
        "Cheung",
        "張美玲",
        "meiling.cheung@example.com",
        "+852 1234 567",
        "Flat 8C, 3 Tai Po Road",
        "",
    ),
    ("Chi Keung", "Ng", "吳志強", "", "", "", "Sha Tin"),
    (
        "Ho Yin",
        "Lau",
        "劉浩然",
        "hoyin.lau@example.com",
        "+852 9456 7890",
        "Flat 21D, 1 Castle Peak Road",
        "Tuen Mun",
    ),
    (
        "Kwok Wing",
        "Tsang",
        "曾國榮",
        "kwokwing.tsang@example.com",
        "+852 6567 8901",
        "HKID Y123456(7), 9 Yuen Long On Ning Road",
        "Yuen Long",
    ),
    (
        "Wing Sze",
        "Leung",
        "梁詠詩",
        "wingsze.leung@example.com",
        "+852 2123 4567",
        "Flat 2A, 55 King's Road",
        "Eastern",
    ),
    (
        "Tsz Ching",
        "Ho",
        "何子晴",
        "tszching.ho@example.com",
        "+852 9678 9012",
        "Flat 16F, 88 Hennessy Road",
        "Wan Chai",
    ),
]


def _customers(now: datetime) -> list[Customer]:
    made = []
    for i, (given, family, chinese, email, phone, address, district) in enumerate(PEOPLE, start=1):
        customer, _ = Customer.objects.get_or_create(
            source="demo-shop",
            external_id=f"DP{i:04d}",
            defaults={
                "given_name": given,
                "family_name": family,
                "chinese_name": chinese,
                "email": email,
                "phone": phone,
                "address_line": address,
                "district": district,
                "first_seen_at": now - timedelta(days=400 + 30 * i),
            },
        )
        made.append(customer)
    for n, customer in enumerate(made[:6], start=1):
        order, created = Order.objects.get_or_create(
            source="demo-shop",
            external_id=f"DPO{n:04d}",
            defaults={
                "customer": customer,
                "placed_at": now - timedelta(days=20 * n),
                "total": Decimal("368.00"),
                "status": "fulfilled",
            },
        )
        if created:
            OrderLine.objects.create(
                order=order,
                line_number=1,
                product="Jasmine tea gift box",
                category="Tea",
                quantity=2,
                unit_price=Decimal("184.00"),
                amount=Decimal("368.00"),
            )
    # One customer not seen for four years: the retention dry run will list them.
    Customer.objects.filter(pk=made[9].pk).update(
        first_seen_at=now - timedelta(days=1500),
        created_at=now - timedelta(days=1500),
        updated_at=now - timedelta(days=1500),
    )
    return made


@transaction.atomic
def seed_privacy() -> bool:
    """Load the data-protection demo; returns False when it is already there."""
    if PrivacyRequest.objects.exists():
        return False
    dpo = User.objects.get(username="dpo")
    now = timezone.now()
    people = _customers(now)

    access = privacy.privacy_request_create(
        actor=dpo,
        kind="access",
        customer=people[0],
        requester_name="Chan Siu Ming",
        requester_contact="siuming.chan@example.com",
        received_at=now - timedelta(days=30),
    )
    privacy.privacy_request_verify_identity(
        actor=dpo, request=access, method="HKID sighted at the Mong Kok shop"
    )
    privacy.privacy_request_set_fee(
        actor=dpo, request=access, amount="40.00", basis="Printing and postage of the copy"
    )

    _disclosures(dpo, people)
    privacy.privacy_request_create(
        actor=dpo,
        kind="correction",
        customer=people[2],
        requester_name="Wong Ka Yan",
        requester_contact="kayan.wong@example.com",
        received_at=now - timedelta(days=5),
        requested_changes={"address_line": "Flat 7E, 20 Shing Yip Street"},
    )
    late = privacy.privacy_request_create(
        actor=dpo,
        kind="access",
        customer=people[6],
        requester_name="Lau Ho Yin",
        requester_contact="hoyin.lau@example.com",
        received_at=now - timedelta(days=38),
    )
    privacy.privacy_request_verify_identity(actor=dpo, request=late, method="Video call with HKID")
    privacy.privacy_request_partial_notice(
        actor=dpo,
        request=late,
        reasons="Your call recordings are held by our contact centre and will follow within 14 days.",
    )
    refused = privacy.privacy_request_create(
        actor=dpo,
        kind="access",
        customer=people[3],
        requester_name="Someone for Lee Wai Man",
        requester_contact="unknown@example.net",
        received_at=now - timedelta(days=12),
    )
    privacy.privacy_request_refuse(
        actor=dpo,
        request=refused,
        ground=RefusalGround.IDENTITY_NOT_VERIFIED,
        reasons="The requester could not show they are Mr Lee or act for him.",
    )
    done = privacy.privacy_request_create(
        actor=dpo,
        kind="access",
        customer=people[8],
        requester_name="Leung Wing Sze",
        requester_contact="wingsze.leung@example.com",
        received_at=now - timedelta(days=25),
    )
    privacy.privacy_request_verify_identity(actor=dpo, request=done, method="HKID at the Causeway Bay shop")
    privacy.privacy_request_export(actor=dpo, request=done, fmt="pdf")
    privacy.privacy_request_complete(actor=dpo, request=done)

    retention.retention_defaults_install(actor=dpo)
    retention.retention_run(actor=dpo, dry_run=True)
    breaches.breach_create(
        actor=dpo,
        data_user="Steward Trading (HK) Ltd",
        data_user_address="8/F, 1 Harbour Road, Wan Chai",
        contact_name="Daniel Ho",
        contact_title="Data-protection officer",
        contact_email="dpo@example.com",
        title="Order confirmation sent to the wrong customer",
        occurred_at=now - timedelta(days=9),
        discovered_at=now - timedelta(days=8),
        description="A template error put another customer's name and address in 14 confirmation e-mails.",
        data_kinds="names, delivery addresses, order items",
        affected_count=14,
        cause="system",
        harm_assessment="Low to medium: addresses disclosed to one other customer each.",
        containment="Template fixed within two hours; recipients asked to delete the e-mails.",
        remedial_action="Template changes now need a second reviewer.",
    )
    quality.quality_check(actor=dpo)
    duplicates.duplicates_detect(actor=dpo)
    return True


def _disclosures(dpo: User, people: list[Customer]) -> None:
    """Whose data the vendor demo's outgoing batches carried: the latest batch of the first outgoing
    register line carried Wong Ka Yan (people[2]), the others did not, so her correction request
    names one recipient (s23(1)(c)). Without the vendor demo there is nothing to record."""
    batches = list(
        DataExchange.objects.filter(
            flow__direction=DataFlow.Direction.TO_VENDOR, flow__personal_data=True
        ).order_by("flow_id", "-occurred_at", "-id")
    )
    others = Customer.objects.filter(pk__in=[people[0].pk, people[1].pk])
    for number, batch in enumerate(batches):
        disclosures.exchange_customers_record(actor=dpo, exchange=batch, customers=others)
        if number == 0:
            disclosures.exchange_customers_record(
                actor=dpo, exchange=batch, customers=Customer.objects.filter(pk=people[2].pk)
            )
