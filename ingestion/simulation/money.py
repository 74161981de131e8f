"""The exports: daily FX rates, ad spend per channel and campaign, cloud cost lines and LLM prices."""

from __future__ import annotations

from ingestion.simulation.config import ACQUISITION, CURRENCIES, MODELS, PAID_CHANNELS
from ingestion.simulation.world import World

# paid campaign: (daily budget in USD at scale 1, cost per visit in USD)
CAMPAIGNS = {
    "brand_search": (40.0, 1.1),
    "generic_ai_tools": (50.0, 1.9),
    "founders_q1": (35.0, 3.2),
    "creators_q1": (30.0, 1.1),
    "partner_launch": (20.0, 1.6),
}
PAID = [(entry[0], entry[3]) for entry in ACQUISITION if entry[0] in PAID_CHANNELS]

AD_SPEND_COLUMNS = ("date", "channel", "campaign", "currency", "amount")
FX_COLUMNS = ("date", "currency", "rate_to_usd")
CLOUD_COLUMNS = ("date", "provider", "service", "product", "currency", "amount")
LLM_PRICE_COLUMNS = ("date", "model", "provider", "currency", "price_per_1k_tokens")


def fx_rates(world: World) -> list[dict]:
    """Today's rates (a small random walk from the first day); USD is 1."""
    rng = world.rng("fx")
    rows = []
    for currency in CURRENCIES:
        if currency != "USD":
            world.fx[currency] = round(world.fx[currency] * (1 + rng.uniform(-0.004, 0.004)), 6)
        world.fx_by_day[(world.today, currency)] = world.fx[currency]
        rows.append({"date": world.today, "currency": currency, "rate_to_usd": world.fx[currency]})
    return rows


def ad_spend(world: World) -> list[dict]:
    """Today's spend per paid campaign; the visits it buys are drawn by people.visits."""
    rng = world.rng("ad_spend")
    factor = world.scale * world.growth * world.weekday_factor
    rows = []
    world.paid_visits = {}
    for channel, campaign in PAID:
        budget, cost_per_visit = CAMPAIGNS[campaign]
        currency = "EUR" if channel == "paid_social" else "USD"
        usd = max(0.5, budget * factor * rng.uniform(0.8, 1.2))
        amount = round(usd / world.fx[currency], 2)
        world.paid_visits[(channel, campaign)] = usd / cost_per_visit
        rows.append(
            {
                "date": world.today,
                "channel": channel,
                "campaign": campaign,
                "currency": currency,
                "amount": amount,
            }
        )
        world.truth.spend(world.today, channel, amount * world.fx[currency])
    return rows


def cloud_costs(world: World) -> list[dict]:
    """Today's cloud bill lines (USD): fixed platform costs plus costs that follow usage."""
    rng = world.rng("cloud")
    usage, scale = world.usage, world.scale
    self_hosted = world.usage_tokens.get("llama-3-70b", 0)
    lines = [
        ("aws", "compute", "courses", 14 * scale + usage["sessions"] * 0.002),
        ("aws", "compute", "marketing", 9 * scale + usage["generations"] * 0.001),
        ("aws", "compute", "documents", 7 * scale + usage["documents"] * 0.0015),
        ("aws", "video_cdn", "courses", 2 * scale + usage["heartbeats"] * 0.00025),
        ("aws", "object_storage", "documents", 0.5 * scale + world.documents_stored * 0.00002),
        ("aws", "database", "shared", 40 * scale),
        ("gcp", "gpu_inference", "shared", 3 * scale + self_hosted * 0.0000006),
    ]
    return [
        {
            "date": world.today,
            "provider": provider,
            "service": service,
            "product": product,
            "currency": "USD",
            "amount": round(max(0.01, amount * rng.uniform(0.95, 1.05)), 4),
        }
        for provider, service, product, amount in lines
    ]


def llm_prices(world: World) -> list[dict]:
    return [
        {
            "date": world.today,
            "model": model,
            "provider": provider,
            "currency": "USD",
            "price_per_1k_tokens": world.llm_prices.price(model, world.today),
        }
        for model, (provider, _, _) in MODELS.items()
    ]
