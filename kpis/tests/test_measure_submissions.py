"""Submitted measurements: evidence attached, approved by someone else, only then used in scores."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from kpis import engine, services
from kpis.models import MeasureSubmission

from .conftest import LAST_MONTH, LAST_MONTH_END, evidence, make_measure

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def uptime(cs_manager):
    return make_measure(cs_manager, "uptime_pct")


def submit(actor, measure, subject, file=None, **kw):
    return services.submission_create(
        actor=actor,
        measure=measure,
        subject=subject,
        start=LAST_MONTH,
        end=LAST_MONTH_END,
        value=D("99.5"),
        evidence=file or evidence(),
        **kw,
    )


def test_a_vendor_portal_user_submits_for_their_own_vendor_with_evidence(portal_user, uptime, vendor_subject):
    submission = submit(portal_user, uptime, vendor_subject)
    assert (submission.status, submission.submitted_by, submission.value) == (
        "submitted",
        portal_user,
        D("99.5"),
    )
    assert submission.evidence.name.startswith(f"kpis/evidence/{vendor_subject.pk}/report")


def test_a_portal_user_cannot_submit_for_another_vendor(outsider, uptime, vendor_subject):
    with pytest.raises(PermissionDenied, match="your own vendor"):
        submit(outsider, uptime, vendor_subject)
    assert not MeasureSubmission.objects.exists()


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (None, "Attach the evidence"),
        (SimpleUploadedFile("run.exe", b"MZ"), "is not accepted"),
    ],
)
def test_evidence_is_required_and_of_an_allowed_type(portal_user, uptime, vendor_subject, file, message):
    with pytest.raises(ValidationError, match=message):
        services.submission_create(
            actor=portal_user,
            measure=uptime,
            subject=vendor_subject,
            start=LAST_MONTH,
            end=LAST_MONTH_END,
            value=D("1"),
            evidence=file,
        )
    assert not MeasureSubmission.objects.exists()


def test_nobody_approves_their_own_submission(cs_manager, second_manager, uptime, vendor_subject):
    submission = submit(cs_manager, uptime, vendor_subject)
    with pytest.raises(PermissionDenied, match="another person must approve"):
        services.submission_decide(actor=cs_manager, submission=submission, approve=True)
    submission.refresh_from_db()
    assert submission.status == "submitted"
    services.submission_decide(actor=second_manager, submission=submission, approve=True)
    submission.refresh_from_db()
    assert (submission.status, submission.decided_by) == ("approved", second_manager)


def test_portal_users_cannot_approve_submissions(portal_user, cs_manager, uptime, vendor_subject):
    submission = submit(cs_manager, uptime, vendor_subject)
    with pytest.raises(PermissionDenied):
        services.submission_decide(actor=portal_user, submission=submission, approve=True)


def test_a_rejection_needs_a_reason(cs_manager, second_manager, uptime, vendor_subject):
    submission = submit(cs_manager, uptime, vendor_subject)
    with pytest.raises(ValidationError, match="Say why"):
        services.submission_decide(actor=second_manager, submission=submission, approve=False)
    services.submission_decide(
        actor=second_manager, submission=submission, approve=False, reason="Wrong month."
    )
    submission.refresh_from_db()
    assert submission.status == "rejected"


def test_only_approved_submissions_feed_the_measure(portal_user, cs_manager, uptime, vendor_subject):
    ref = engine.subject_ref(vendor_subject)
    pending = submit(portal_user, uptime, vendor_subject)
    assert engine.collect_readings([uptime], [ref], LAST_MONTH, LAST_MONTH_END) == {}
    services.submission_decide(actor=cs_manager, submission=pending, approve=True)
    readings = engine.collect_readings([uptime], [ref], LAST_MONTH, LAST_MONTH_END)
    assert readings[("uptime_pct", vendor_subject.pk)].value == D("99.5")
    assert readings[("uptime_pct", vendor_subject.pk)].submission_id == pending.pk


def test_computed_measures_cannot_be_submitted(cs_manager, vendor_subject):
    from kpis.models import Measure

    services.measures_sync()
    computed = Measure.objects.get(code="approved_submissions")
    with pytest.raises(ValidationError, match="computed by Steward"):
        submit(cs_manager, computed, vendor_subject)


def test_a_period_must_end_after_it_starts(cs_manager, uptime, vendor_subject):
    with pytest.raises(ValidationError, match="ends after it starts"):
        services.submission_create(
            actor=cs_manager,
            measure=uptime,
            subject=vendor_subject,
            start=LAST_MONTH,
            end=date(2025, 4, 1),
            value=D("1"),
            evidence=evidence(),
        )
