"""The night's plan: one instance per distinct question, every instance's parameters checked."""

from __future__ import annotations

import pytest

from warehouse.forecasting.forecast import Prediction
from warehouse.night.plan import plan_instances


def test_a_question_predicted_for_two_users_is_planned_once():
    params = {"metric": "profit", "period": "last_month"}
    planned = plan_instances([Prediction("u1", "revenue_total", params, 0.9),
                              Prediction("u2", "revenue_total", dict(params), 0.4)])
    (instance,) = planned.values()
    assert instance.users == ["u1", "u2"] and instance.intent_id == "revenue_total"


@pytest.mark.parametrize("intent_id, params, reason", [
    ("trend_weekly", {"metric": "headcount"}, "unknown metric 'headcount'"),
    ("revenue_total", {"metric": "revenue", "period": "next_decade"}, "needs a period"),
    ("breakdown", {"metric": "revenue", "period": "last_month", "dimension": "mood"}, "unknown dimension"),
    ("revenue_total", {"metric": "revenue", "period": "last_month", "filters": {"password": "x"}},
     "cannot filter on 'password'"),
    ("no_such_intent", {}, "unknown intent"),
])
def test_a_prediction_the_catalogue_cannot_answer_is_refused_by_name(intent_id, params, reason):
    with pytest.raises(ValueError, match=reason) as raised:
        plan_instances([Prediction("u7", intent_id, params, 0.5)])
    assert "u7" in str(raised.value)
