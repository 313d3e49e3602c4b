"""Privacy demo data (``customers.demo.seed_consent``): Daniel Cheung (DPO) publishes two versions of
the online shop's collection statement and a checkout form under the second, registers two marketing
purposes and an insurance partner; demo customers give consent online, in writing and on a recorded
call; one replies STOP; Harbour Call Centre is registered as a processor with its checklist; Kelvin
(agent) reads a few customers and Daniel reveals one for an access request. Idempotent.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from customers import collection, field_access, marketing, processors
from customers.models import CollectionStatement, Customer, MarketingState
from vendors.models import DataFlow, Vendor

NOTICE = (
    "Steward Trading would like to use your name, e-mail address and purchase history to send you "
    "offers on our own household and electronics products by e-mail. We cannot do so without your "
    "consent. Tick the box to agree; you can change your mind at any time, free of charge, by "
    "replying STOP or writing to privacy@steward-trading.example.hk."
)
PICS = {
    "title": "Online shop Personal Information Collection Statement",
    "purposes": "Processing and delivering your orders; after-sales service and warranty claims; "
    "answering your enquiries; with your consent, direct marketing (see below).",
    "transferee_classes": "Delivery companies; payment processors; our customer-service centre "
    "(Harbour Call Centre Ltd); with your written consent, our insurance partner.",
    "access_contact": "Data Protection Officer, Steward Trading (HK) Ltd, 18/F, 1 Hysan Avenue, "
    "Causeway Bay; privacy@steward-trading.example.hk. You may ask for access to and correction "
    "of your data.",
    "direct_marketing": NOTICE,
}
ITEMS_V1 = [
    {"field": "given_name", "obligatory": True, "consequence": "We cannot address your order."},
    {"field": "family_name", "obligatory": True, "consequence": "We cannot address your order."},
    {"field": "email", "obligatory": True, "consequence": "We cannot send your receipt."},
    {"field": "phone", "obligatory": True, "consequence": "The courier cannot reach you."},
    {"field": "address_line", "obligatory": True, "consequence": "We cannot deliver."},
]
# Version 2: the phone number became voluntary (the courier now uses e-mail notifications).
ITEMS_V2 = [
    {**i, "obligatory": False, "consequence": ""} if i["field"] == "phone" else i for i in ITEMS_V1
] + [{"field": "chinese_name", "obligatory": False, "consequence": ""}]

# (source id, given, family, chinese, e-mail, phone, district)
CUSTOMERS = [
    ("DEMO-P01", "Tai Man", "Chan", "陳大文", "chan.taiman@example.hk", "+85291234567", "Sha Tin"),
    ("DEMO-P02", "Siu Ming", "Wong", "黃小明", "wong.siuming@example.hk", "+85292345678", "Kwun Tong"),
    ("DEMO-P03", "Ka Yan", "Lee", "李嘉欣", "lee.kayan@example.hk", "+85293456789", "Central and Western"),
    ("DEMO-P04", "Mei Ling", "Cheung", "張美玲", "cheung.meiling@example.hk", "+85294567890", "Tsuen Wan"),
    ("DEMO-P05", "Chi Keung", "Ho", "何志強", "ho.chikeung@example.hk", "+85295678901", "Yuen Long"),
]


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _customers() -> list[Customer]:
    """The demo customers, created here when the customer demo has not made them."""
    rows: list[Customer] = []
    for ref, given, family, chinese, email, phone, district in CUSTOMERS:
        customer, _ = Customer.objects.get_or_create(
            source="demo",
            external_id=ref,
            defaults={
                "given_name": given,
                "family_name": family,
                "chinese_name": chinese,
                "email": email,
                "phone": phone,
                "district": district,
                "address_line": f"Flat {len(rows) + 3}A, {district} demo estate",
            },
        )
        rows.append(customer)
    return rows


@transaction.atomic
def seed_consent(*, today: date | None = None) -> bool:
    """Load the privacy demo; returns False when it is already there."""
    if CollectionStatement.objects.exists():
        return False
    today = today or timezone.localdate()
    dpo = User.objects.get(username="dpo")
    crm = User.objects.get(username="crm.staff")
    agent = User.objects.get(username="cs.agent")

    collection.statement_publish(
        actor=dpo, statement=collection.statement_create(actor=dpo, items=ITEMS_V1, **PICS)
    )
    v2 = collection.statement_create(actor=dpo, items=ITEMS_V2, **PICS)
    v2 = collection.statement_publish(actor=dpo, statement=v2)
    checkout = collection.form_create(
        actor=dpo,
        name="Web shop checkout",
        channel="web",
        statement=v2,
        fields=[
            {"field": f, "obligatory": f != "phone" and f != "chinese_name"}
            for f in ("given_name", "family_name", "chinese_name", "email", "phone", "address_line")
        ],
    )
    own = marketing.purpose_create(
        actor=dpo,
        code="own-offers",
        name="Offers on our own products",
        description="Household and electronics",
    )
    partner = marketing.purpose_create(
        actor=dpo,
        code="insurance-offers",
        name="Insurance offers from our partner",
        description="Home contents",
    )
    insurer = marketing.transferee_create(
        actor=dpo,
        name="Harbour Insurance Brokers Ltd",
        transferee_class="insurance partners",
        email="privacy@harbour-insurance.example.hk",
        postal_address="12/F, 88 Queen's Road Central, Hong Kong",
    )

    chan, wong, lee, cheung, ho = _customers()
    for index, customer in enumerate((chan, wong, lee, cheung, ho)):
        collection.collection_record(
            actor=crm,
            customer=customer,
            form=checkout,
            supplied=["given_name", "family_name", "email", "address_line"]
            + (["phone"] if index % 2 else []),
            collected_at=_at(today - timedelta(days=40 - index), 10 + index),
        )
    for customer in (chan, wong, cheung):
        marketing.consent_grant(
            actor=crm,
            customer=customer,
            purpose=own,
            channel="email",
            method="online_tick",
            notice_text=NOTICE,
            statement=v2,
            source="Web shop checkout",
            occurred_at=_at(today - timedelta(days=30), 11),
        )
    marketing.consent_grant(
        actor=crm,
        customer=cheung,
        purpose=own,
        channel="sms",
        method="verbal_recorded",
        notice_text="Call script v3: offers by SMS on our own products; say no at any time.",
        evidence="REC-2026-0917-044",
        source="Hotline call",
        occurred_at=_at(today - timedelta(days=20), 15),
    )
    marketing.consent_grant(
        actor=dpo,
        customer=chan,
        purpose=partner,
        channel="post",
        method="written",
        transferee=insurer,
        for_gain=True,
        notice_text="Signed consent form IC-7: we provide your name and address to Harbour Insurance "
        "Brokers Ltd, for gain, for it to send you home-contents insurance offers by post.",
        evidence="Scan IC-7-0031",
        source="Signed form at the Causeway Bay store",
        occurred_at=_at(today - timedelta(days=15), 16),
    )
    marketing.opt_out(
        actor=crm,
        customer=wong,
        channel="email",
        source="Replied STOP to the September newsletter",
        occurred_at=_at(today - timedelta(days=5), 9),
    )
    state = MarketingState.objects.create(customer=ho, pre_2013_data=True)
    state.pre_2013_purposes.add(own)

    harbourcall = Vendor.objects.filter(code="harbourcall").first()
    if harbourcall is not None:
        flows = list(DataFlow.objects.filter(vendor=harbourcall, personal_data=True))
        processor = processors.processor_create(
            actor=dpo,
            vendor=harbourcall,
            processing="Answers customer calls, e-mails and chats for us",
            contract_clause="Customer-service agreement HC-CS-2025, cl. 14 and Schedule 6 (data protection)",
            data_flows=flows,
        )
        for item, answer, evidence, ago in [
            ("access_control", "yes", "Access review minutes, named agent list", 30),
            ("encryption_transit", "yes", "SFTP with key authentication (IT check)", 60),
            ("encryption_rest", "partly", "Case system encrypted; call recordings not yet", 60),
            ("confidentiality", "yes", "Signed confidentiality undertakings, training log", 90),
            ("retention", "yes", "Schedule 6 §4: cases deleted 90 days after closing", 120),
            ("incidents", "no", "", 0),
        ]:
            processors.processor_check_answer(
                actor=dpo,
                processor=processor,
                item=item,
                answer=answer,
                evidence=evidence,
                evidence_date=today - timedelta(days=ago) if evidence else None,
            )
    for customer in (chan, lee, cheung):
        field_access.customer_fields_for(agent, customer)
    field_access.customer_fields_for(dpo, lee, purpose="Data access request DAR-2026-007")
    return True
