"""Visitors arriving by channel and campaign, their page views (touchpoints), signups and users."""

from __future__ import annotations

import random

from ingestion.simulation.clock import MS_MINUTE, ordinal_of
from ingestion.simulation.config import ACQUISITION, PAID_CHANNELS, PRODUCTS, USERS_PER_SCALE, WARMUP_DAYS
from ingestion.simulation.events import Device
from ingestion.simulation.rand import hex_id, poisson
from ingestion.simulation.world import World

# Unpaid visits per day at scale 1 (paid visits follow the day's ad spend, see money.py).
UNPAID_VISITS = {"email": 10.0, "organic_search": 30.0, "referral": 8.0, "direct": 17.0}
SIGNUP_ON_FIRST_VISIT = 0.045
SIGNUP_ON_RETURN = 0.12
RETURNS = 0.35  # share of visitors who come back (1 to 3 times, within two weeks)
PRODUCT_WEIGHTS = (45, 30, 25)
PAGES = {
    "courses": ("/", "/courses", "/courses/catalog", "/pricing"),
    "marketing": ("/", "/studio", "/studio/templates", "/pricing"),
    "documents": ("/", "/docs", "/docs/templates", "/pricing"),
}
CURRENCY = {"US": "USD", "IN": "USD", "BR": "USD", "CA": "USD", "GB": "GBP", "DE": "EUR", "FR": "EUR"}
BY_CHANNEL = {entry[0]: [e for e in ACQUISITION if e[0] == entry[0]] for entry in ACQUISITION}


class Person:
    """Someone behind one device, known by its anonymous id until signup."""

    __slots__ = ("anon", "country", "device", "user", "returns_left")

    def __init__(self, anon: str, country: str, device: Device) -> None:
        self.anon = anon
        self.country = country
        self.device = device
        self.user: User | None = None
        self.returns_left = 0


class User:
    TABLE = "users"
    __slots__ = (
        "id",
        "number",
        "person",
        "email",
        "country",
        "currency",
        "created_at",
        "updated_at",
        "deleted_at",
        "signup_product",
        "opt_in",
        "interests",
        "engaged_until",
        "p_active",
        "learner",
        "workspace",
        "customer",
        "listed",
    )

    def __init__(
        self, number: int, person: Person, created_at: int, product: str, rng: random.Random
    ) -> None:
        self.id = f"user_{number:07d}"
        self.number = number
        self.person = person
        self.email = f"person{number}@example.com"
        self.country = person.country
        self.currency = CURRENCY[person.country]
        self.created_at = created_at
        self.updated_at = created_at
        self.deleted_at: int | None = None
        self.signup_product = product
        self.opt_in = rng.random() < 0.7
        self.interests = (product, *(p for p in PRODUCTS if p != product and rng.random() < 0.2))
        self.engaged_until = 0
        self.p_active = 0.0
        self.learner = None  # learning.Learner while enrolled
        self.workspace = None  # products.Workspace for marketing users
        self.customer = None  # billing.Customer once the user has subscribed
        self.listed = True  # in world.engaged
        self.engage(created_at, rng, loyal=rng.random() < 0.12)

    def engage(self, at: int, rng: random.Random, loyal: bool = False, mean_days: float = 30.0) -> None:
        """The user is engaged (uses the products now and then) for a random while from `at`."""
        days = rng.expovariate(1 / 200) if loyal else rng.expovariate(1 / mean_days)
        self.engaged_until = max(self.engaged_until, ordinal_of(at) + int(days))
        self.p_active = rng.uniform(0.05, 0.2)

    def row(self) -> dict:
        return {
            "id": self.id,
            "email": self.email,
            "country": self.country,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "deleted_at": self.deleted_at,
            "signup_product": self.signup_product,
            "marketing_opt_in": self.opt_in,
        }


def new_person(world: World, rng: random.Random) -> Person:
    country, device = world.device(rng)
    return Person("anon_" + hex_id(rng, 12), country, device)


def visit_context(device: Device, entry: tuple) -> dict:
    _, source, medium, campaign, referrer = entry
    context = {"device": device.kind}
    if source:
        context |= {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign}
    if referrer:
        context["referrer"] = referrer
    return context


def page_view(world: World, rng: random.Random, person: Person, entry: tuple, t: int, product: str) -> str:
    """One landing page view (a touchpoint); returns the session id."""
    session = hex_id(rng, 16)
    user_id = person.user.id if person.user else None
    event = world.event(
        rng,
        "page_view",
        product,
        t,
        user_id,
        person.anon,
        person.device,
        {"path": rng.choice(PAGES[product])},
        session,
        visit_context(person.device, entry),
    )
    event.channel = entry[0]
    return session


def visits(world: World) -> None:
    """Today's visitors: new ones by channel and campaign, and earlier visitors coming back."""
    rng = world.rng("visits")
    factor = world.scale * world.weekday_factor * world.growth
    arrivals: list[tuple[tuple, Person | None]] = []
    for entry in ACQUISITION:
        channel, campaign = entry[0], entry[3]
        if channel in PAID_CHANNELS:
            mean = world.paid_visits.get((channel, campaign), 0.0)
        else:
            mean = UNPAID_VISITS[channel] * factor / len(BY_CHANNEL[channel])
        arrivals += [(entry, None)] * poisson(rng, mean)
    for person in world.returning.pop(world.today.toordinal(), []):
        channel = rng.choices(
            ("direct", "organic_search", "email", "paid_search", "paid_social"), (4, 3, 2, 1, 1)
        )[0]
        arrivals.append((rng.choice(BY_CHANNEL[channel]), person))
    for entry, returning in arrivals:
        person = returning or new_person(world, rng)
        t = world.moment(rng, person.device.offset)
        product = rng.choices(PRODUCTS, PRODUCT_WEIGHTS)[0]
        session = page_view(world, rng, person, entry, t, product)
        chance = SIGNUP_ON_RETURN if returning else SIGNUP_ON_FIRST_VISIT
        if rng.random() < chance:
            signed_up = min(t + rng.randint(1, 20) * MS_MINUTE, world.today_ms + 86_400_000 - 1)
            signup(world, rng, person, signed_up, product, session)
            continue
        if returning is None and rng.random() < RETURNS:
            person.returns_left = rng.randint(1, 3)
        if person.returns_left > 0:
            person.returns_left -= 1
            world.returning.setdefault(world.today.toordinal() + rng.randint(1, 14), []).append(person)


def signup(
    world: World, rng: random.Random, person: Person, t: int, product: str, session: str | None = None
) -> User:
    user = User(world.next_number("user"), person, t, product, rng)
    person.user = user
    world.users.append(user)
    world.engaged.append(user)
    world.rows.touch(user)
    if world.in_window:
        method = rng.choices(("email", "google", "github"), (5, 4, 1))[0]
        world.event(
            rng, "signup", product, t, user.id, person.anon, person.device, {"method": method}, session
        )
    for hook in world.signup_hooks:
        hook(world, user, rng)
    return user


def warmup_signups(world: World) -> None:
    """Before the window: the users the business already has, without their events."""
    rng = world.rng("warmup_signups")
    for _ in range(poisson(rng, USERS_PER_SCALE * world.scale / WARMUP_DAYS)):
        person = new_person(world, rng)
        signup(
            world,
            rng,
            person,
            world.moment(rng, person.device.offset),
            rng.choices(PRODUCTS, PRODUCT_WEIGHTS)[0],
        )


def engagement(world: World) -> None:
    """Drop users whose engagement ended from today's candidates; some delete their account then;
    a few dormant users come back (a digest e-mail or a search)."""
    rng = world.rng("engagement")
    today = world.today.toordinal()
    still = []
    for user in world.engaged:
        if user.engaged_until >= today and user.deleted_at is None:
            still.append(user)
            continue
        user.listed = False
        if (
            user.deleted_at is None
            and rng.random() < 0.03
            and not (user.customer and user.customer.running())
        ):
            user.deleted_at = user.updated_at = world.moment(rng, user.person.device.offset)
            user.email = f"deleted-{user.number}@example.invalid"
            world.rows.touch(user)
    if world.users:
        for _ in range(poisson(rng, 0.004 * len(world.users))):
            user = world.users[rng.randrange(len(world.users))]
            if user.deleted_at is not None or user.listed:
                continue
            user.engage(world.today_ms, rng, mean_days=14.0)
            user.listed = True
            still.append(user)
            if world.in_window:
                entry = BY_CHANNEL["email"][0] if user.opt_in else BY_CHANNEL["direct"][0]
                t = world.moment(rng, user.person.device.offset)
                page_view(world, rng, user.person, entry, t, user.interests[0])
    world.engaged = still
