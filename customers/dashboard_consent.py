"""Home-dashboard panel of customer privacy: open access alerts, reads today, opt-outs, notices due."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from core.dashboard import Panel, register
from customers.models import AccessAlert, CustomerAccess, Suppression, TransfereeNotice


@register
def privacy_panels(user: Any) -> list[Panel]:
    """For the DPO (and whoever may acknowledge access alerts)."""
    if not user.has_perm("customers.change_accessalert"):
        return []
    since = timezone.now() - timedelta(hours=24)
    return [
        Panel(
            "Customer data protection",
            "Unusual reads of customer records, opt-outs to honour and notices owed to third parties.",
            reverse("customers:access_alerts"),
            [
                ("Open access alerts", AccessAlert.objects.filter(acknowledged_at__isnull=True).count()),
                ("Customer reads, 24 h", CustomerAccess.objects.filter(occurred_at__gte=since).count()),
                ("Opt-outs, 24 h", Suppression.objects.filter(occurred_at__gte=since).count()),
                ("Notices to send", TransfereeNotice.objects.filter(sent_at__isnull=True).count()),
            ],
        )
    ]
