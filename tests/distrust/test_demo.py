"""distrust.demo: one realistic action through the real actions; skipped gracefully without demo rows."""

import io

import pytest

from distrust import demo
from distrust.models import DistrustAction


@pytest.mark.django_db
def test_demo_is_skipped_without_staff_or_incident():
    out = io.StringIO()
    demo.load(out)
    assert "skipped" in out.getvalue() and DistrustAction.objects.count() == 0


@pytest.mark.django_db
def test_demo_carries_an_action_to_the_implement_step_once(staff, scenario, incident):
    out = io.StringIO()
    demo.load(out)
    action = DistrustAction.objects.get()
    assert action.state == "implement" and action.artifacts.exists()
    assert action.closure_items.count() == 1  # the generated intermediate is cross-signed
    demo.load(out)
    assert DistrustAction.objects.count() == 1 and "(kept)" in out.getvalue()
