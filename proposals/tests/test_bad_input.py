"""Issue 6, bad input: late submissions, scores off the scale, a conflicted member scoring,
editing a submitted version, acknowledging an old guideline version, and the rest. Each gets a
clear error and writes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditEvent
from core.testing.personas import bearer
from core.testing.problems import assert_problem, nothing_written
from proposals import services
from proposals.models import (
    Acknowledgement,
    Call,
    ComponentDecision,
    CriteriaSet,
    Initiative,
    ProposalVersion,
    Scoresheet,
)
from proposals.tests.conftest import SECTIONS, components, full_scores

pytestmark = pytest.mark.django_db
API = "/api/v1/proposals"


def send(client, method, url, user, body=None):
    """Sign the user's token in first, so that only the request itself is inside `nothing_written`."""
    headers = bearer(user)

    def go():
        kwargs = {"content_type": "application/json", **headers}
        if body is not None:
            kwargs["data"] = json.dumps(body)
        return getattr(client, method)(url, **kwargs)

    return go


def past_deadline(call: Call) -> None:
    Call.objects.filter(pk=call.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    call.refresh_from_db()


def test_a_submission_after_the_deadline_is_refused_and_logged(client, call, portal_user):
    draft = services.proposal_save_draft(
        actor=portal_user, call=call, sections=SECTIONS, components=components()
    )
    past_deadline(call)

    with _no_submission(draft):
        response = send(client, "post", f"{API}/{draft.proposal_id}/submit", portal_user, {})()
    body = assert_problem(response, 422)
    assert "deadline passed" in str(body)
    assert AuditEvent.objects.filter(
        object_type="proposals.proposal", changes__refused__icontains="deadline"
    ).exists()


class _no_submission:
    def __init__(self, draft):
        self.draft = draft

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.draft.refresh_from_db()
        assert self.draft.submitted_at is None
        return False


def test_a_call_that_allows_late_submissions_marks_them_late(call, portal_user):
    Call.objects.filter(pk=call.pk).update(allow_late=True)
    call.refresh_from_db()
    draft = services.proposal_save_draft(
        actor=portal_user, call=call, sections=SECTIONS, components=components()
    )
    past_deadline(call)
    version = services.proposal_submit(actor=portal_user, proposal=draft.proposal)
    assert version.late and version.is_submitted


@pytest.mark.parametrize("value", [0, 6, -1])
def test_scores_outside_one_to_five_are_refused(client, submitted, panel, crm, value):
    for member in panel:
        services.panel_declare(actor=member.user, member=member, conflicts=[])
    request_ = send(client, "put", f"{API}/{submitted[0].pk}/scores", crm, {"scores": {"risk": value}})
    with nothing_written(Scoresheet):
        response = request_()
    assert_problem(response, 422)


def test_a_member_cannot_score_a_vendor_they_declared_a_conflict_with(
    client, submitted, panel, panelist, vendor
):
    member = next(m for m in panel if m.user == panelist)
    services.panel_declare(
        actor=panelist, member=member, conflicts=[vendor], note="My cousin runs Harbour Call."
    )
    request_ = send(client, "put", f"{API}/{submitted[0].pk}/scores", panelist, {"scores": full_scores(5)})
    with nothing_written(Scoresheet):
        response = request_()
    assert "conflict of interest" in str(assert_problem(response, 422))
    # …and the consensus does not wait for them.
    for m in panel:
        if m.user != panelist:
            services.panel_declare(actor=m.user, member=m, conflicts=[])
            services.scoresheet_save(actor=m.user, proposal=submitted[0], scores=full_scores(3), submit=True)
    from proposals.selectors import consensus_table

    assert consensus_table(submitted[0]).complete


def test_a_member_must_declare_before_scoring(client, submitted, panel, crm):
    request_ = send(client, "put", f"{API}/{submitted[0].pk}/scores", crm, {"scores": full_scores(3)})
    with nothing_written(Scoresheet):
        response = request_()
    assert "Declare your conflicts" in str(assert_problem(response, 422))


def test_a_submitted_score_is_final(submitted, panel, crm):
    services.panel_declare(actor=crm, member=panel[0], conflicts=[])
    services.scoresheet_save(actor=crm, proposal=submitted[0], scores=full_scores(3), submit=True)
    with pytest.raises(ValidationError, match="final"):
        services.scoresheet_save(actor=crm, proposal=submitted[0], scores=full_scores(5))
    assert Scoresheet.objects.get().scores == full_scores(3)


def test_a_submitted_version_is_never_edited_saving_starts_a_new_one(call, submitted, portal_user):
    proposal = submitted[0]
    v1 = proposal.versions.get()
    draft = services.proposal_save_draft(
        actor=portal_user, call=call, sections={**SECTIONS, "kpis": "changed"}, components=components()
    )
    v1.refresh_from_db()
    assert draft.number == 2 and v1.sections["kpis"] == SECTIONS["kpis"]


def test_a_revision_must_answer_every_change_request(client, submitted, crm, portal_user, call):
    proposal = submitted[0]
    services.change_request_create(
        actor=crm, proposal=proposal, section="cost", request="Split set-up and run costs."
    )
    services.proposal_save_draft(actor=portal_user, call=call, sections=SECTIONS, components=components())
    response = send(client, "post", f"{API}/{proposal.pk}/submit", portal_user, {})()
    assert "Answer every change request" in str(assert_problem(response, 422))
    assert proposal.versions.filter(submitted_at__isnull=False).count() == 1


def test_required_sections_must_be_filled(client, call, portal_user):
    draft = services.proposal_save_draft(
        actor=portal_user, call=call, sections={"objectives": "x"}, components=components()
    )
    response = send(client, "post", f"{API}/{draft.proposal_id}/submit", portal_user, {})()
    assert "Target customer segments" in str(assert_problem(response, 422))
    draft.refresh_from_db()
    assert draft.submitted_at is None


def test_acknowledging_a_version_that_is_no_longer_current_is_refused(client, crm):
    guideline = services.guideline_create(actor=crm, title="Liaison etiquette", stage="strategy")
    old = services.guideline_publish(actor=crm, guideline=guideline, body="v1", roles=["crm_staff"])
    services.guideline_publish(actor=crm, guideline=guideline, body="v2", roles=["crm_staff"])
    request_ = send(client, "post", f"{API}/guideline-versions/{old.pk}/acknowledge", crm)
    with nothing_written(Acknowledgement):
        response = request_()
    assert "no longer current" in str(assert_problem(response, 422))


def test_weights_must_sum_to_one_hundred(client, crm, vendor):
    body = {
        "title": "x",
        "objectives": "y",
        "required_sections": ["objectives"],
        "deadline": (timezone.now() + timedelta(days=3)).isoformat(),
        "vendor_ids": [vendor.pk],
        "weights": {"effectiveness": 50, "risk": 40},
    }
    request_ = send(client, "post", f"{API}/calls", crm, body)
    with nothing_written(Call):
        response = request_()
    assert "sum to 100" in str(assert_problem(response, 422))
    body = {"name": "IT", "category": "it", "criteria": [{"key": "a", "label": "A", "weight": 90}]}
    request_ = send(client, "post", f"{API}/criteria-sets", crm, body)
    with nothing_written(CriteriaSet):
        response = request_()
    assert "sum to 100" in str(assert_problem(response, 422))


def test_a_deadline_in_the_past_is_refused(client, crm, vendor):
    for deadline in ((timezone.now() - timedelta(days=1)).isoformat(), "2020-01-01T10:00:00"):
        body = {
            "title": "x",
            "objectives": "y",
            "required_sections": ["objectives"],
            "deadline": deadline,
            "vendor_ids": [vendor.pk],
        }
        request_ = send(client, "post", f"{API}/calls", crm, body)
        with nothing_written(Call):
            assert_problem(request_(), 422)


def test_deciding_an_unknown_component_or_without_reason_writes_nothing(client, submitted, crm):
    proposal = submitted[0]
    for body in (
        {"component_key": "nope", "outcome": "adopt", "reason": "x"},
        {"component_key": "winback", "outcome": "adopt", "reason": " "},
        {"component_key": "winback", "outcome": "adapt", "reason": "x"},
        {"component_key": "winback", "outcome": "maybe", "reason": "x"},
    ):
        request_ = send(client, "post", f"{API}/{proposal.pk}/decisions", crm, body)
        with nothing_written(ComponentDecision, Initiative):
            assert_problem(request_(), 422)


def test_a_negative_cost_or_a_text_target_is_refused(client, call, portal_user):
    for component in ({"title": "X", "cost": "-5"}, {"title": "X", "target": "lots"}):
        request_ = send(
            client, "put", f"{API}/calls/{call.pk}/draft", portal_user, {"components": [component]}
        )
        with nothing_written(ProposalVersion):
            response = request_()
        assert response.status_code == 422
