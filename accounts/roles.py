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
            ("vendors.view_*",),
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
            (),
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

# --- c1: customers' sales activity, preferences, segments and reports (issue 7 items 1, 4, 10) ---
# Marketing and CRM staff read customers and orders masked (they do not see personal data);
# CRM / IT staff also load sales data (imports, API, rebuilds); marketing and CRM build segments.
# Agents read the orders and events on a customer's page, masked. The DPO has customers.* above.
CUSTOMERS_SALES_READ = (
    "customers.view_customer",
    "customers.view_order",
    "customers.view_orderline",
    "customers.view_behaviourevent",
    "customers.view_customermetrics",
    "customers.view_categoryaffinity",
    "customers.view_segment",
    "customers.view_salesmonth",
    "customers.view_cohortmonth",
    "customers.view_segmentmovement",
)
CUSTOMERS_INGEST = (
    "customers.view_importjob",
    "customers.add_importjob",
    "customers.add_customer",
    "customers.add_order",
    "customers.add_behaviourevent",
    "customers.change_customermetrics",
)
CUSTOMERS_SEGMENTS = ("customers.add_segment", "customers.change_segment", "customers.delete_segment")


def _with_permissions(code: str, extra: tuple[str, ...]) -> None:
    from dataclasses import replace

    ROLES[code] = replace(ROLES[code], permissions=(*ROLES[code].permissions, *extra))


_with_permissions(MARKETING, (*CUSTOMERS_SALES_READ, *CUSTOMERS_SEGMENTS))
_with_permissions(CRM_STAFF, (*CUSTOMERS_SALES_READ, *CUSTOMERS_INGEST, *CUSTOMERS_SEGMENTS))
_with_permissions(
    CS_AGENT, ("customers.view_order", "customers.view_orderline", "customers.view_behaviourevent")
)
