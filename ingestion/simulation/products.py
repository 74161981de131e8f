"""The marketing-content SaaS (workspaces generating and scheduling content in a brand voice) and the
document generator (requests turned into documents from templates, exported as pdf, docx or md)."""

from __future__ import annotations

import itertools
import math
import random

from ingestion.simulation import invoicing
from ingestion.simulation.catalog import TEMPLATE_WEIGHTS, TEMPLATES
from ingestion.simulation.clock import MS_DAY, MS_HOUR, MS_MINUTE, MS_SECOND, iso
from ingestion.simulation.config import MODELS
from ingestion.simulation.invoicing import Line
from ingestion.simulation.people import User
from ingestion.simulation.rand import hex_id
from ingestion.simulation.world import World

BRAND_VOICES = ("friendly", "bold", "formal", "playful", "technical")
CONTENT_TYPES = ("social_post", "blog_post", "ad_copy", "email")
CONTENT_MODELS = (
    ("gpt-4o-mini", 40),
    ("claude-haiku", 25),
    ("gpt-4o", 15),
    ("claude-sonnet", 15),
    ("llama-3-70b", 5),
)
DOCUMENT_MODELS = (("gpt-4o-mini", 30), ("claude-sonnet", 30), ("gpt-4o", 25), ("llama-3-70b", 15))
_CONTENT_MODEL_CUM = list(itertools.accumulate(w for _, w in CONTENT_MODELS))
_DOCUMENT_MODEL_CUM = list(itertools.accumulate(w for _, w in DOCUMENT_MODELS))
_TEMPLATE_CUM = list(itertools.accumulate(TEMPLATE_WEIGHTS))
CREDIT_PACK = {"USD": 900, "EUR": 850, "GBP": 750}


class Workspace:
    TABLE = "workspaces"
    __slots__ = ("id", "owner", "name", "brand_voice", "seats", "created_at", "updated_at")

    def __init__(self, owner: User, rng: random.Random) -> None:
        self.id = "ws_" + hex_id(rng, 12)
        self.owner = owner
        self.name = f"Workspace {owner.number}"
        self.brand_voice = rng.choice(BRAND_VOICES)
        self.seats = 1
        self.created_at = self.updated_at = owner.created_at

    def row(self) -> dict:
        return {
            "id": self.id,
            "owner_user_id": self.owner.id,
            "name": self.name,
            "brand_voice": self.brand_voice,
            "seats": self.seats,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "deleted_at": None,
        }


def on_signup(world: World, user: User, rng: random.Random) -> None:
    if "marketing" in user.interests:
        user.workspace = Workspace(user, rng)
        world.rows.touch(user.workspace)


def _generation(
    rng: random.Random, models: tuple, cum: list[int], scale_tokens: float
) -> tuple[str, int, int]:
    model = rng.choices(models, cum_weights=cum)[0][0]
    tokens = max(50, int(rng.lognormvariate(math.log(900 * scale_tokens), 0.6)))
    speed = MODELS[model][2]
    latency = int(300 + tokens / speed * 1000 * rng.lognormvariate(0, 0.25))
    return model, tokens, latency


def marketing_session(world: World, rng: random.Random, user: User, t: int) -> None:
    workspace = user.workspace
    if workspace is None:
        workspace = user.workspace = Workspace(user, rng)
        workspace.created_at = workspace.updated_at = t
        world.rows.touch(workspace)
    person = user.person
    session = hex_id(rng, 16)
    day_end = world.today_ms + MS_DAY - 1
    for _ in range(rng.choices((1, 2, 3, 4, 6), (30, 25, 20, 15, 10))[0]):
        model, tokens, latency = _generation(rng, CONTENT_MODELS, _CONTENT_MODEL_CUM, 1.0)
        t += latency
        if t > day_end:
            return
        succeeded = rng.random() < 0.97
        content_id = "ct_" + hex_id(rng, 14)
        props = {
            "content_id": content_id,
            "workspace_id": workspace.id,
            "content_type": rng.choice(CONTENT_TYPES),
            "model": model,
            "tokens": tokens,
            "latency_ms": latency,
            "brand_voice_score": round(rng.betavariate(8, 2), 3) if succeeded else None,
            "success": succeeded,
        }
        world.event(
            rng, "content_generated", "marketing", t, user.id, person.anon, person.device, props, session
        )
        world.usage_tokens[model] = world.usage_tokens.get(model, 0) + tokens
        world.usage["generations"] += 1
        if succeeded:
            t = _content(world, rng, user, workspace, content_id, model, props["content_type"], t, session)
        t += rng.randint(20, 300) * MS_SECOND


def _content(world, rng, user, workspace, content_id, model, kind, t, session) -> int:
    row = {
        "id": content_id,
        "workspace_id": workspace.id,
        "user_id": user.id,
        "content_type": kind,
        "model": model,
        "status": "draft",
        "scheduled_for": None,
        "published_at": None,
        "created_at": t,
        "updated_at": t,
        "deleted_at": None,
    }
    world.rows.put("contents", row)
    if rng.random() < 0.4:
        at = t + rng.randint(20, 600) * MS_SECOND
        if at <= world.today_ms + MS_DAY - 1:
            scheduled_for = at + rng.randint(1, 96) * MS_HOUR
            person = user.person
            props = {"content_id": content_id, "workspace_id": workspace.id, "scheduled_for": scheduled_for}
            props["channel"] = rng.choice(("linkedin", "x", "blog", "newsletter"))
            props["scheduled_for"] = iso(scheduled_for)
            world.event(
                rng, "content_scheduled", "marketing", at, user.id, person.anon, person.device, props, session
            )
            row = row | {"status": "scheduled", "scheduled_for": scheduled_for, "updated_at": at}
            world.rows.put("contents", row)
            row = row | {"status": "published", "published_at": scheduled_for, "updated_at": scheduled_for}
            world.rows.put("contents", row)
            t = at
    if rng.random() < 0.05:
        gone = row["updated_at"] + rng.randint(1, 60) * MS_DAY
        world.rows.put("contents", row | {"deleted_at": gone, "updated_at": gone})
    return t


def documents_session(world: World, rng: random.Random, user: User, t: int) -> None:
    person = user.person
    session = hex_id(rng, 16)
    day_end = world.today_ms + MS_DAY - 1
    for _ in range(rng.choices((1, 2, 3), (65, 25, 10))[0]):
        if t > day_end:
            return
        document_id = "doc_" + hex_id(rng, 14)
        template = TEMPLATES[rng.choices(range(len(TEMPLATES)), cum_weights=_TEMPLATE_CUM)[0]][0]
        ids = {"document_id": document_id, "template_id": template}
        world.event(
            rng, "document_requested", "documents", t, user.id, person.anon, person.device, ids, session
        )
        model, tokens, latency = _generation(rng, DOCUMENT_MODELS, _DOCUMENT_MODEL_CUM, 2.5)
        t += latency
        if t > day_end:
            return
        succeeded = rng.random() < 0.95
        props = ids | {"model": model, "tokens": tokens, "latency_ms": latency, "success": succeeded}
        world.event(
            rng, "document_generated", "documents", t, user.id, person.anon, person.device, props, session
        )
        world.usage_tokens[model] = world.usage_tokens.get(model, 0) + tokens
        world.usage["generations"] += 1
        row = {
            "id": document_id,
            "user_id": user.id,
            "template_id": template,
            "status": "generated" if succeeded else "failed",
            "model": model,
            "tokens": tokens,
            "export_count": 0,
            "created_at": t,
            "updated_at": t,
            "deleted_at": None,
        }
        world.rows.put("documents", row)
        if succeeded:
            world.usage["documents"] += 1
            world.documents_stored += 1
            exports = rng.choices((0, 1, 2), (40, 48, 12))[0]
            for _ in range(exports):
                t += rng.randint(10, 600) * MS_SECOND
                if t > day_end:
                    return
                fmt = rng.choices(("pdf", "docx", "md"), (60, 30, 10))[0]
                props = {"document_id": document_id, "format": fmt}
                world.event(
                    rng,
                    "document_exported",
                    "documents",
                    t,
                    user.id,
                    person.anon,
                    person.device,
                    props,
                    session,
                )
                row = row | {"export_count": row["export_count"] + 1, "updated_at": t}
                world.rows.put("documents", row)
            if rng.random() < 0.08:
                gone = t + rng.randint(1, 60) * MS_DAY + rng.randrange(MS_DAY)
                world.rows.put("documents", row | {"deleted_at": gone, "updated_at": gone})
        customer = user.customer
        if customer is not None and customer.running() and rng.random() < 0.02:
            invoicing.issue(
                world,
                rng,
                user,
                None,
                t,
                "manual",
                [
                    Line(
                        "one_off",
                        "documents",
                        "Extra credits pack",
                        1,
                        CREDIT_PACK[customer.currency],
                        CREDIT_PACK[customer.currency],
                    )
                ],
                customer.currency,
            )
        t += rng.randint(30, 900) * MS_SECOND + rng.randrange(MS_MINUTE)
