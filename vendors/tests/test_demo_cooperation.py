"""The demo's cooperation data: Harbour Call's interfaces and governance, a shared script with two
versions, ideas (one turned into a proposal), its people working for us (one who left with access
still open), a decided quarterly review with its improvement plan, and the upcoming reviews."""

from __future__ import annotations

from vendors import cooperation_selectors as reads
from vendors import demo
from vendors.models import (
    CooperationReview,
    GovernanceItem,
    Idea,
    SharedDocument,
    SystemInterface,
    ThirdPartyWorker,
)
from vendors.tests.test_demo_seed import TODAY, demo_people  # noqa: F401 (the fixture)


def test_the_demo_seeds_the_cooperation_work_once(demo_people):  # noqa: F811
    assert demo.seed(today=TODAY) is True
    assert SystemInterface.objects.filter(status="live").count() == 3
    assert GovernanceItem.objects.filter(kind="escalation").count() == 3
    script = SharedDocument.objects.get()
    assert script.shared_with_vendor and [v.number for v in script.versions.order_by("number")] == [1, 2]
    assert set(Idea.objects.values_list("status", flat=True)) == {"under_consideration", "proposal", "new"}
    assert ThirdPartyWorker.objects.count() == 5
    from accounts.models import User

    manager = User.objects.get(username="vendor.manager")
    alerts = reads.access_alerts(user=manager, today=TODAY)
    assert [a.system for a in alerts] == ["Shopify order admin"]
    decided = CooperationReview.objects.get(status="completed")
    assert decided.decision == "improvement_plan" and decided.improvement_plan.milestones.count() == 3
    assert decided.meeting is not None and decided.meeting.actions.count() == 2
    upcoming = CooperationReview.objects.filter(status="scheduled", contract=decided.contract)
    assert sorted(upcoming.values_list("kind", flat=True)) == ["annual", "quarterly"]
    assert demo.seed(today=TODAY) is False
