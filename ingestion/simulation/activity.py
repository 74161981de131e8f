"""Who uses what today: engaged users open the products they care about; passive events arrive."""

from __future__ import annotations

from ingestion.simulation import learning, products
from ingestion.simulation.people import BY_CHANNEL, page_view
from ingestion.simulation.world import World

SESSIONS = {
    "courses": learning.session,
    "marketing": products.marketing_session,
    "documents": products.documents_session,
}


def usage(world: World) -> None:
    rng = world.rng("activity")
    weekday = world.weekday_factor
    tuesday = world.today.weekday() == 1
    for user in world.engaged:
        person = user.person
        device = person.device
        if tuesday and user.opt_in and rng.random() < 0.9:
            t = world.moment(rng, device.offset)
            world.event(
                rng,
                "email_delivered",
                user.interests[0],
                t,
                user.id,
                None,
                device,
                {"campaign": "weekly_digest"},
            )
            if rng.random() < 0.01:
                user.opt_in = False
                _updated(world, user, min(t + rng.randint(60, 3600) * 1000, world.today_ms + 86_399_999))
        if rng.random() >= user.p_active * weekday:
            continue
        for index, product in enumerate(user.interests):
            if rng.random() >= (0.85 if index == 0 else 0.45):
                continue
            t = world.moment(rng, device.offset)
            world.usage["sessions"] += 1
            SESSIONS[product](world, rng, user, t)
        if rng.random() < 0.25:
            t = world.moment(rng, device.offset)
            world.event(
                rng,
                "notification_received",
                user.interests[0],
                t,
                user.id,
                None,
                device,
                {"kind": "reminder"},
            )
        if user.customer is None and rng.random() < 0.04:
            channel = rng.choice(("email", "paid_search", "paid_social")) if user.opt_in else "paid_search"
            entry = rng.choice(BY_CHANNEL[channel])
            page_view(world, rng, person, entry, world.moment(rng, device.offset), user.interests[0])
        if rng.random() < 0.001:
            user.email = f"person{user.number}.{world.today.toordinal()}@example.org"
            _updated(world, user, world.today_ms + rng.randrange(86_400_000))


def _updated(world: World, user, at: int) -> None:
    user.updated_at = max(user.updated_at, at)
    world.rows.touch(user)
