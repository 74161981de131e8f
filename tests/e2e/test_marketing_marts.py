"""The marketing marts on the tiny seeded world, checked against the simulator's own ground truth.

The ground truth follows the simulator's state (who started paying when, every page view of a person,
the cash collected); the marts derive the same from silver. Conversions are matched on (type, user,
time), touches on the page view's event id (a touchpoint id is `<person>:<landing event id>`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from ingestion import ground_truth
from ingestion.simulation.truth import weights
from tests.e2e.warehouse import query

pytestmark = pytest.mark.slow

MODELS = ("first_touch", "last_touch", "linear", "position_based", "time_decay")
DIRECT = {None: ("direct", None, dict.fromkeys(MODELS, 1.0))}


def _utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC).replace(tzinfo=None)


def _ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def _truth(world) -> tuple[dict[tuple, dict], dict[tuple, dict]]:
    """Conversions by (type, user, converted_at), and their touches: event id → (channel, campaign, weights).

    The truth ties a visitor's page views to the user at signup; the lake can only once the signup
    event has arrived. For a user whose signup event is still in flight when the window ends (a late
    event), the anonymous page views drop out and the rest are weighted by the truth's own formula.
    """
    conversions = {
        (r["conversion_type"], r["user_id"], _utc(r["converted_at"])): dict(r)
        for r in ground_truth.conversions(world)
    }
    by_id = {r["conversion_id"]: key for key, r in conversions.items()}
    touches: dict[tuple, dict] = defaultdict(dict)
    touched_at: dict[str, int] = {}
    for r in ground_truth.conversion_touches(world):
        touches[by_id[r["conversion_id"]]][r["touch_event_id"]] = (
            r["channel"],
            r["campaign"],
            {model: r[model] for model in MODELS},
        )
        if r["touched_at"] is not None:
            touched_at[r["touch_event_id"]] = _ms(r["touched_at"])
    signed_up = {user for kind, user, _ in conversions if kind == "signup"}
    stitched = {e["user_id"] for e in world.events if e["event_type"] == "signup"}
    logged_in_views = {e["event_id"] for e in world.events if e["event_type"] == "page_view" and e["user_id"]}
    for key, conversion in conversions.items():
        if key[1] not in signed_up - stitched or None in touches[key]:
            continue
        kept = sorted(
            (touched_at[event_id], event_id, channel, campaign)
            for event_id, (channel, campaign, _) in touches[key].items()
            if event_id in logged_in_views
        )
        at = _ms(conversion["converted_at"])
        touches[key] = {
            event_id: (channel, campaign, dict(zip(MODELS, w, strict=True)))
            for (_, event_id, channel, campaign), w in zip(kept, weights(kept, at), strict=True)
        } or dict(DIRECT)
        conversion["touches"] = len(kept)
    return conversions, touches


def test_conversions_match_ground_truth(built, world) -> None:
    settings = built[0]
    expected, _ = _truth(world)
    rows = query(
        settings,
        "select conversion_type, user_id, converted_at, value_usd, is_window_open, touches, "
        "conversion_number "
        "from marketing.fct_conversions",
    )
    actual = {(kind, user, at): rest for kind, user, at, *rest in rows}
    assert actual.keys() == expected.keys()
    assert {kind for kind, _, _ in actual} == {"paid", "signup"}
    for key, truth in expected.items():
        value, is_open, touches, _ = actual[key]
        assert is_open == truth["window_open"], key
        assert touches == truth["touches"], key
        if truth["value_usd"] is None:
            assert value is None, key
        else:
            assert math.isclose(value, truth["value_usd"], abs_tol=1e-6), key
    # a customer who churned and came back after 90 days converts again: one row per return
    paid_per_user: dict[str, int] = defaultdict(int)
    for kind, user, _ in expected:
        paid_per_user[user] += kind == "paid"
    returns = {user for kind, user, *_, number in rows if kind == "paid" and number > 1}
    assert returns == {user for user, count in paid_per_user.items() if count > 1}


def test_attribution_weights_match_ground_truth_exactly(built, world) -> None:
    settings = built[0]
    _, expected = _truth(world)
    keys = {
        cid: (kind, user, at)
        for cid, kind, user, at in query(
            settings,
            "select conversion_id, conversion_type, user_id, converted_at from marketing.fct_conversions",
        )
    }
    actual: dict[tuple, dict] = defaultdict(lambda: defaultdict(dict))
    rows = query(
        settings,
        "select conversion_id, attribution_model, touchpoint_id, channel, campaign, weight "
        "from marketing.fct_attribution",
    )
    for cid, model, touchpoint_id, channel, campaign, weight in rows:
        event_id = None if touchpoint_id is None else touchpoint_id.split(":", 1)[1]
        actual[keys[cid]][event_id][model] = (channel, campaign, weight)
    assert actual.keys() == expected.keys()
    for key, touches in expected.items():
        assert actual[key].keys() == touches.keys(), key
        for event_id, (channel, campaign, truth_weights) in touches.items():
            assert actual[key][event_id].keys() == set(MODELS), (key, event_id)
            for model, (got_channel, got_campaign, got_weight) in actual[key][event_id].items():
                assert (got_channel, got_campaign) == (channel, campaign), (key, event_id)
                assert math.isclose(got_weight, truth_weights[model], rel_tol=1e-9, abs_tol=1e-12), (
                    key,
                    event_id,
                    model,
                )
    # the world has conversions attributed to touches, not only to direct
    assert any(None not in touches for touches in expected.values())


def test_roas_and_attributed_conversions_per_channel_under_each_model(built, world) -> None:
    """ROAS per channel over the window = Σ weight × 90-day value / Σ spend, from the truth alone."""
    settings = built[0]
    conversions, touches = _truth(world)
    spend: dict[str, float] = defaultdict(float)
    for r in ground_truth.spend(world):
        spend[r["channel"]] += r["spend_usd"]
    value: dict[tuple, float] = defaultdict(float)
    paid: dict[tuple, float] = defaultdict(float)
    signups: dict[tuple, float] = defaultdict(float)
    for key, conversion in conversions.items():
        for channel, _, model_weights in touches[key].values():
            for model, weight in model_weights.items():
                if conversion["conversion_type"] == "paid":
                    value[(model, channel)] += weight * conversion["value_usd"]
                    paid[(model, channel)] += weight
                else:
                    signups[(model, channel)] += weight
    rows = query(
        settings,
        "select attribution_model, channel, sum(spend_usd), sum(attributed_value_usd), "
        "sum(attributed_conversions), sum(attributed_signups) "
        "from marketing.fct_channel_performance group by all",
    )
    actual = {(model, channel): rest for model, channel, *rest in rows}
    assert actual.keys() == {(model, c) for model in MODELS for c in spend} | paid.keys() | signups.keys()
    for (model, channel), (got_spend, got_value, got_paid, got_signups) in actual.items():
        assert math.isclose(got_spend, spend[channel], abs_tol=1e-6), (model, channel)
        assert math.isclose(got_paid, paid[(model, channel)], abs_tol=1e-9), (model, channel)
        assert math.isclose(got_signups, signups[(model, channel)], abs_tol=1e-9), (model, channel)
        assert math.isclose(got_value, value[(model, channel)], abs_tol=1e-6), (model, channel)
        if spend[channel] > 0:
            assert math.isclose(
                got_value / got_spend, value[(model, channel)] / spend[channel], rel_tol=1e-9, abs_tol=1e-12
            ), (model, channel)
    assert any(spend.values())


def test_touchpoints_per_day_and_channel_match_ground_truth(built, world) -> None:
    settings = built[0]
    rows = query(settings, "select touch_date, channel, count(*) from marketing.fct_touchpoints group by all")
    assert {(d, c): n for d, c, n in rows} == {
        (r["touch_date"], r["channel"]): r["touchpoints"] for r in ground_truth.touchpoints(world)
    }


def test_funnel_counts_every_visitor_once_and_narrows_step_by_step(built) -> None:
    settings = built[0]
    ((persons,),) = query(settings, "select count(distinct person_key) from marketing.fct_touchpoints")
    rows = query(settings, "select visitors, signups, activated, paid from marketing.fct_funnel")
    assert sum(r[0] for r in rows) == persons
    assert all(v >= s >= a >= p for v, s, a, p in rows)
