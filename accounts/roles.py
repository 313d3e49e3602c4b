"""The roles of PRODUCT.md §1, each a Django group with the permissions below.

Patterns name permissions as ``app_label.codename``; ``*`` matches any part, so
``vendors.view_*`` is every view permission of the vendors app. Feature packages add
their own lines here when they arrive; ``sync_roles`` runs after every migrate, so new
models' permissions reach the groups without a manual step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    description: str
    permissions: tuple[str, ...]
    sees_personal_data: bool = False
    staff: bool = True  # False for vendor portal users: they are outsiders bound to one vendor


ADMINISTRATOR = "administrator"
VENDOR_MANAGER = "vendor_manager"
CRM_STAFF = "crm_staff"
CS_MANAGER = "cs_manager"
CS_AGENT = "cs_agent"
MARKETING = "marketing"
DPO = "data_protection_officer"
AUDITOR = "auditor"
VENDOR_PORTAL = "vendor_portal"

# The measurement engine (kpis): managers define and approve, agents and vendors see their own.
KPIS_MANAGE = (
    "kpis.view_*",
    "kpis.add_*",
    "kpis.change_*",
    "kpis.approve_kpiversion",
    "kpis.approve_measuresubmission",
    "kpis.recompute_period",
)
KPIS_OWN_SCORECARD = (
    "kpis.view_subject",
    "kpis.view_scorecard",
    "kpis.view_scorecardline",
    "kpis.view_scorecardperiod",
    "kpis.view_kpiresult",
    "kpis.view_measurevalue",
    "kpis.view_measure",
    "kpis.view_kpidefinition",
    "kpis.view_kpiversion",
)
KPIS_VENDOR_PORTAL = (
    *KPIS_OWN_SCORECARD,
    "kpis.view_creditterms",
    "kpis.view_adjustment",
    "kpis.view_improvementplan",
    "kpis.change_improvementplan",
    "kpis.view_measuresubmission",
    "kpis.add_measuresubmission",
)

# The vendor register (vendors): a portal user reads their own vendor's agreed contract terms,
# obligations, update requests and the actions assigned to the vendor, uploads evidence, answers
# requests and moves its actions on. Named one by one: nothing internal (risk, contacts, liaison
# minutes, alerts, status history) reaches the portal. Isolation itself comes from vendor_path.
VENDORS_PORTAL = (
    "vendors.view_vendor",
    "vendors.view_contract",
    "vendors.view_contractversion",
    "vendors.view_feeitem",
    "vendors.view_scopeitem",
    "vendors.view_racientry",
    "vendors.view_servicelevel",
    "vendors.view_obligation",
    "vendors.view_obligationinstance",
    "vendors.view_obligationevidence",
    "vendors.add_obligationevidence",
    "vendors.view_updaterequest",
    "vendors.change_updaterequest",
    "vendors.view_actionitem",
    "vendors.change_actionitem",
)

# --- customers: privacy (c2) ---
# Marketing and CRM staff see customers (masked, customers.field_access), the consent ledger and the
# opt-out list, record opt-outs, and export or send marketing lists (customers.consent.marketable
# decides who is on them). Customer-service agents get the masked customer view only.
CUSTOMERS_MARKETING = (
    "customers.view_customer",
    "customers.view_consententry",
    "customers.view_marketingpurpose",
    "customers.view_suppression",
    "customers.add_suppression",
    "customers.view_transferee",
    "customers.view_marketingexport",
    "customers.add_marketingexport",
)
# CRM staff run the collection workflow (seed 003 §2): they record consents and collections.
CUSTOMERS_CRM = (
    *CUSTOMERS_MARKETING,
    "customers.add_consententry",
    "customers.view_collectionstatement",
    "customers.view_collectionform",
    "customers.view_collectionrecord",
    "customers.add_collectionrecord",
)

ROLES: dict[str, Role] = {
    r.code: r
    for r in [
        Role(
            ADMINISTRATOR,
            "Administrator",
            "Manages users, roles and settings; can do everything.",
            ("*.*",),
            sees_personal_data=True,
        ),
        Role(
            VENDOR_MANAGER,
            "Vendor manager",
            "Keeps the vendor register, contracts, service levels, obligations and liaison log; "
            "runs cooperation reviews; approves service credits and bonuses.",
            # Not the audit trail: it holds every user's logins and reads of customer data,
            # which is the auditors' and the DPO's business (least privilege).
            ("vendors.*", *KPIS_MANAGE, "kpis.approve_adjustment", "service.view_*"),
        ),
        Role(
            CRM_STAFF,
            "CRM / IT staff",
            "Publishes partner-selection criteria and guidelines, calls for CRM strategy proposals, "
            "evaluates and integrates them.",
            ("vendors.view_*", *CUSTOMERS_CRM),
        ),
        Role(
            CS_MANAGER,
            "Customer-service manager",
            "Defines service KPIs and SLA policies, reviews reports, compares with competitors, "
            "reviews agents.",
            ("vendors.view_*", *KPIS_MANAGE, "kpis.approve_staffrecommendation", "service.*"),
        ),
        Role(
            CS_AGENT,
            "Customer-service agent",
            "Sees own scorecard; handles customer records with masked personal data.",
            (
                *KPIS_OWN_SCORECARD,
                "kpis.view_staffrecommendation",
                "service.view_ticket",
                "service.view_ticketevent",
                "service.view_ticketsla",
                "customers.view_customer",
            ),
        ),
        Role(
            MARKETING,
            "Marketing",
            "Sees segments and preferences; exports only customers who consented on that channel.",
            CUSTOMERS_MARKETING,
        ),
        Role(
            DPO,
            "Data-protection officer",
            "Consents, collection statements, access and correction requests, retention, processors, "
            "access log.",
            ("core.view_auditevent", "core.verify_auditevent", "vendors.view_*", "customers.*"),
            sees_personal_data=True,
        ),
        Role(
            AUDITOR,
            "Auditor",
            "Reads everything that is not personal data, and the audit trail.",
            ("*.view_*", "core.verify_auditevent"),
        ),
        Role(
            VENDOR_PORTAL,
            "Vendor portal user",
            "An outsourcing vendor's staff: sees only their own vendor's records.",
            (*VENDORS_PORTAL, *KPIS_VENDOR_PORTAL),
            staff=False,
        ),
    ]
}

# Permissions no role pattern may grant except the administrator's: user and group administration.
RESERVED_APPS = frozenset({"auth", "accounts", "admin", "sessions", "contenttypes", "axes", "otp_totp"})

# Every signed-in person, portal users included, may manage their own API tokens
# (ApiToken.scope_for keeps each to their own).
EVERYONE: tuple[str, ...] = ("accounts.view_apitoken", "accounts.add_apitoken", "accounts.change_apitoken")
