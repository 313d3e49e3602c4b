"""The roles of PRODUCT.md §1, each a Django group with the permissions below.

Patterns name permissions as ``app_label.codename``; ``*`` matches any part, so
``vendors.view_*`` is every view permission of the vendors app. Feature packages add
their own lines here when they arrive; ``sync_roles`` runs after every migrate, so new
models' permissions reach the groups without a manual step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


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

# CRM strategy proposals (proposals): CRM staff run the process; panel members from other roles
# read the calls and proposals and score them (the service checks panel membership and conflicts).
PROPOSALS_PANEL = (
    "proposals.view_call",
    "proposals.view_invitation",
    "proposals.view_clarification",
    "proposals.view_proposal",
    "proposals.view_proposalversion",
    "proposals.view_changerequest",
    "proposals.view_componentdecision",
    "proposals.view_panelmember",
    "proposals.view_scoresheet",
    "proposals.add_scoresheet",
    "proposals.change_scoresheet",
    "proposals.view_objective",
    "proposals.view_initiative",
    "proposals.view_milestone",
)
# A vendor reads the calls it is invited to, asks questions, writes and submits its proposal and
# sees the decisions on it; never the panel, the scores or another vendor's proposal. Its portal
# users (third-party staff) read and acknowledge the guidelines assigned to their vendor
# (Guideline/GuidelineVersion vendor_path keeps them to those).
PROPOSALS_PORTAL = (
    "proposals.view_guideline",
    "proposals.view_guidelineversion",
    "proposals.view_acknowledgement",
    "proposals.add_acknowledgement",
    "proposals.view_call",
    "proposals.view_invitation",
    "proposals.view_calldocument",
    "proposals.view_clarification",
    "proposals.add_clarification",
    "proposals.view_proposal",
    "proposals.add_proposal",
    "proposals.change_proposal",
    "proposals.view_proposalversion",
    "proposals.add_proposalversion",
    "proposals.change_proposalversion",
    "proposals.view_changerequest",
    "proposals.view_componentdecision",
)
# --- s4 service KPI reports: a portal user sees their own vendor's figures and the tickets behind them.
SERVICE_REPORTS_PORTAL = (
    "service.view_servicemonthlyrollup",
    "service.view_servicedailyrollup",
    "service.view_serviceagentmonthrollup",
    "service.view_ticket",
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
            ("vendors.*", *KPIS_MANAGE, "kpis.approve_adjustment", "service.view_*", *PROPOSALS_PANEL),
        ),
        Role(
            CRM_STAFF,
            "CRM / IT staff",
            "Publishes partner-selection criteria and guidelines, calls for CRM strategy proposals, "
            "evaluates and integrates them.",
            # change_idea: CRM staff turn an accepted idea from the liaison log into a call for proposals.
            ("vendors.view_*", "vendors.change_idea", "proposals.*", *CUSTOMERS_CRM),
        ),
        Role(
            CS_MANAGER,
            "Customer-service manager",
            "Defines service KPIs and SLA policies, reviews reports, compares with competitors, "
            "reviews agents.",
            (
                "vendors.view_*",
                *KPIS_MANAGE,
                "kpis.approve_staffrecommendation",
                "service.*",
                *PROPOSALS_PANEL,
            ),
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
            (*PROPOSALS_PANEL, *CUSTOMERS_MARKETING),
        ),
        Role(
            DPO,
            "Data-protection officer",
            "Consents, collection statements, access and correction requests, retention, processors, "
            "access log.",
            (
                "core.view_auditevent",
                "core.verify_auditevent",
                "vendors.view_*",
                "customers.*",
                *PROPOSALS_PANEL,
            ),
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
            (*VENDORS_PORTAL, *KPIS_VENDOR_PORTAL, *PROPOSALS_PORTAL, *SERVICE_REPORTS_PORTAL),
            staff=False,
        ),
    ]
}

# Permissions no role pattern may grant except the administrator's: user and group administration.
RESERVED_APPS = frozenset({"auth", "accounts", "admin", "sessions", "contenttypes", "axes", "otp_totp"})

# Every signed-in person, portal users included, may manage their own API tokens
# (ApiToken.scope_for keeps each to their own).
EVERYONE: tuple[str, ...] = ("accounts.view_apitoken", "accounts.add_apitoken", "accounts.change_apitoken")
# Every staff member but the auditor (who only reads) reads and acknowledges the guidelines for
# dealing with outsourcers assigned to them (portal users: PROPOSALS_PORTAL, their vendor's only).
PROPOSALS_GUIDELINES = (
    "proposals.view_guideline",
    "proposals.view_guidelineversion",
    # Who acknowledged what is on the guidelines page for every staff member; the vendor
    # manager also sees it on each third-party worker's page.
    "proposals.view_acknowledgement",
    "proposals.add_acknowledgement",
)
for _code, _role in list(ROLES.items()):
    if _role.staff and _code not in (ADMINISTRATOR, AUDITOR):
        ROLES[_code] = replace(_role, permissions=(*_role.permissions, *PROPOSALS_GUIDELINES))

# --- v1: vendor cooperation ---
# A vendor's portal users also see their own vendor's system interfaces and governance (reports,
# meetings, escalation path), the documents we share with them (only those marked shared), the
# ideas they sent (and may send more), their own people working for us with their access, training
# and checklists, and the improvement plans agreed with them. Reviews stay internal.
VENDORS_PORTAL_COOPERATION = (
    "vendors.view_systeminterface",
    "vendors.view_governanceitem",
    "vendors.view_shareddocument",
    "vendors.view_shareddocumentversion",
    "vendors.view_idea",
    "vendors.add_idea",
    "vendors.view_thirdpartyworker",
    "vendors.view_accessgrant",
    "vendors.view_trainingrecord",
    "vendors.view_guidelineacknowledgement",
    "vendors.view_boardingtask",
    "vendors.view_vendorimprovementplan",
    "vendors.view_improvementmilestone",
)
ROLES[VENDOR_PORTAL] = Role(
    VENDOR_PORTAL,
    ROLES[VENDOR_PORTAL].label,
    ROLES[VENDOR_PORTAL].description,
    (*ROLES[VENDOR_PORTAL].permissions, *VENDORS_PORTAL_COOPERATION),
    staff=False,
)

# --- service ingest (issue 4 item 1) ---
# A portal user reads the tickets their own vendor handled (Ticket.vendor_path keeps them to it),
# with their events, SLA results, and their vendor's teams and agents. Agents see teams and
# agents too, to filter the ticket list.
SERVICE_TICKETS_READ = (
    "service.view_ticket",
    "service.view_ticketevent",
    "service.view_ticketsla",
    "service.view_team",
    "service.view_agent",
)
ROLES[VENDOR_PORTAL] = replace(
    ROLES[VENDOR_PORTAL], permissions=(*ROLES[VENDOR_PORTAL].permissions, *SERVICE_TICKETS_READ)
)
ROLES[CS_AGENT] = replace(ROLES[CS_AGENT], permissions=(*ROLES[CS_AGENT].permissions, *SERVICE_TICKETS_READ))

# --- business hours and SLA policies (s2) ---
# Agents read the calendars and policies their SLA results are judged by (cs_manager manages them
# through service.*; vendor managers and auditors already read service.view_*).
SLA_DEFINITIONS_READ = (
    "service.view_businesscalendar",
    "service.view_businesstimeframe",
    "service.view_calendarholiday",
    "service.view_slapolicy",
)
_agent = ROLES[CS_AGENT]
ROLES[CS_AGENT] = Role(
    _agent.code,
    _agent.label,
    _agent.description,
    (*_agent.permissions, *SLA_DEFINITIONS_READ),
    sees_personal_data=_agent.sees_personal_data,
    staff=_agent.staff,
)

# --- service quality: surveys, codes of practice, QA and staff reviews (s3) ---
# An agent reads the codes of practice and rubrics, their own QA reviews (to acknowledge or
# dispute them) and their own decided staff reviews; the models' scope_for keeps it to their own.
SERVICE_QUALITY_AGENT = (
    "service.view_codeofpractice",
    "service.view_codeitem",
    "service.view_rubric",
    "service.view_rubriccategory",
    "service.view_qareview",
    "service.view_qacategoryscore",
    "service.view_staffreview",
)
ROLES[CS_AGENT] = Role(
    ROLES[CS_AGENT].code,
    ROLES[CS_AGENT].label,
    ROLES[CS_AGENT].description,
    (*ROLES[CS_AGENT].permissions, *SERVICE_QUALITY_AGENT),
    ROLES[CS_AGENT].sees_personal_data,
    ROLES[CS_AGENT].staff,
)

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
# An agent takes a customer's "stop marketing to me" on a call (s35G) without seeing the opt-out
# list or the consent ledger (customers.marketing.opt_out_on_call).
_with_permissions(CS_AGENT, ("customers.record_phone_opt_out",))
