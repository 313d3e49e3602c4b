"""Home dashboard, health probes and error pages (problem details under /api/)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core import audit, selectors
from core.api import problem
from core.dashboard import dashboard_panels
from core.forms import AuditFilterForm

logger = logging.getLogger("steward.health")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home dashboard: each feature package contributes panels for the roles it serves."""
    return render(request, "core/home.html", {"panels": dashboard_panels(request.user)})


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return f"database: {exc.__class__.__name__}"
    return None


def _check_broker() -> str | None:
    if not settings.CELERY_BROKER_URL:
        return None  # eager mode: no broker to reach
    from steward.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # any transport error means "not ready"
        return f"broker: {exc.__class__.__name__}"
    return None


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database and (when configured) the Celery broker are reachable."""
    failures = [f for f in (_check_database(), _check_broker()) if f]
    if failures:
        logger.warning("not ready", extra={"failures": failures})
        return JsonResponse({"status": "unavailable", "failures": failures}, status=503)
    return JsonResponse(
        {
            "status": "ok",
            "database": connection.vendor,
            "broker": "eager" if not settings.CELERY_BROKER_URL else "ok",
        }
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_api(request):
        return problem(
            request, 403, "CSRF check failed: send the X-CSRFToken header with session requests.", kind="csrf"
        )
    return render(
        request,
        "core/error.html",
        {
            "status": 403,
            "title": "Form expired",
            "message": "The form was open too long or came from another site. Go back, reload and try again.",
        },
        status=403,
    )


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _is_api(request):
        return problem(request, 404, "No such endpoint or object.", kind="not-found")
    return render(
        request,
        "core/error.html",
        {"status": 404, "title": "Not found", "message": "There is nothing here, or you may not see it."},
        status=404,
    )


def forbidden(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _is_api(request):
        return problem(request, 403, "You may not do that.", kind="forbidden")
    return render(
        request,
        "core/error.html",
        {"status": 403, "title": "Not allowed", "message": "Your role does not allow this."},
        status=403,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return problem(
            request, 500, "Something went wrong on our side; quote the request id when reporting it."
        )
    return render(
        request,
        "core/error.html",
        {
            "status": 500,
            "title": "Something went wrong",
            "message": "The error was logged. Quote the request id below if you report it.",
        },
        status=500,
    )


# --- Audit trail pages ---------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    """Auditors browse and filter the trail; HTMX swaps the table when the filters change."""
    if not request.user.has_perm("core.view_auditevent"):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    events = selectors.audit_event_list(user=request.user)
    if form.is_bound:
        # A filter that does not parse shows nothing (with the error), never the unfiltered trail.
        events = (
            selectors.audit_event_list(
                user=request.user,
                filters=selectors.AuditFilter(**{k: v for k, v in form.cleaned_data.items() if v}),
            )
            if form.is_valid()
            else events.none()
        )
    paginator = Paginator(events, AUDIT_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_verify": request.user.has_perm("core.verify_auditevent"),
    }
    template = "core/_audit_table.html" if request.htmx else "core/audit_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Walk the hash chain now and say whether it is intact (auditors, DPO, administrators)."""
    if not request.user.has_perm("core.verify_auditevent"):
        raise PermissionDenied
    report = audit.verify_chain()
    return render(request, "core/_audit_verify.html", {"report": report})
