"""Writes of the service KPI reports: the attribution/filing rules, rollup rebuilds, the monthly e-mail."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import CS_MANAGER
from core import audit
from core.models import AuditEvent
from service import report_exports, reports
from service.measures import current_rules
from service.report_models import ServiceKpiRules


@transaction.atomic
def kpi_rules_set(*, actor: Any, attribution: str, filing: str) -> ServiceKpiRules:
    """Change who gets credit and which date files a ticket; the rollups are rebuilt after commit."""
    if actor is None or not actor.has_perm("service.change_servicekpirules"):
        raise PermissionDenied("Changing the KPI rules needs the customer-service manager role.")
    errors = {}
    if attribution not in ServiceKpiRules.Attribution.values:
        errors["attribution"] = f"Choose one of {', '.join(ServiceKpiRules.Attribution.values)}."
    if filing not in ServiceKpiRules.Filing.values:
        errors["filing"] = f"Choose one of {', '.join(ServiceKpiRules.Filing.values)}."
    if errors:
        raise ValidationError(errors)
    rules = current_rules()
    creating = rules._state.adding
    before = None if creating else audit.snapshot(rules)
    rules.attribution, rules.filing, rules.changed_by = attribution, filing, actor
    rules.save()
    audit.record_change(
        AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE, rules, before=before, actor=actor
    )
    from service.tasks import rebuild_service_rollups

    transaction.on_commit(lambda: rebuild_service_rollups.delay())
    return rules


def monthly_report_send(*, today: date | None = None) -> int:
    """E-mail last month's report (by team, PDF and CSV attached) to every active customer-service manager."""
    today = today or timezone.localdate()
    period = reports.last_month(today)
    managers = list(
        User.objects.filter(groups__name=CS_MANAGER, is_active=True, vendor__isnull=True)
        .exclude(email="")
        .order_by("pk")
        .distinct()
    )
    sent = 0
    for manager in managers:
        report = reports.report(user=manager, period=period, group_by="team")
        total = report.total.figures
        lines = [
            f"Customer-service KPIs for {period.label}, all teams and vendors.",
            "",
            *(
                f"{f.label}: {'n/a' if total[f.code].value is None else total[f.code].value} {f.unit}"
                for f in reports.FIGURES
            ),
            "",
            report.rules.statement(),
            "Definitions and figures per team are in the attached report.",
        ]
        message = EmailMessage(
            subject=f"Steward: customer-service KPIs {period.label}",
            body="\n".join(lines),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[manager.email],
        )
        message.attach(
            f"service-kpis-{period.label}.pdf", report_exports.render(report, "pdf"), "application/pdf"
        )
        message.attach(f"service-kpis-{period.label}.csv", report_exports.render(report, "csv"), "text/csv")
        message.send()
        audit.record_event(
            AuditEvent.Action.OTHER,
            object_type="service.report",
            object_repr=f"Monthly service KPI report {period.label} e-mailed",
            detail={"to": manager.username, "period": period.label},
        )
        sent += 1
    return sent
