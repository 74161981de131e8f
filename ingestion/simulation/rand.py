"""Random streams derived from (seed, what, day or entity), never one stream consumed in order.

A day's draws depend only on the seed, the day and the state the days before left, so a longer run
repeats a shorter one byte for byte and only adds days.
"""

from __future__ import annotations

import hashlib
import math
import random


def derive(seed: int, *parts: object) -> int:
    text = ":".join(str(p) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def stream(seed: int, *parts: object) -> random.Random:
    """A random generator for one purpose: e.g. stream(seed, "visits", day_ordinal)."""
    return random.Random(derive(seed, *parts))


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (Knuth for small means, a rounded normal for large ones)."""
    if mean <= 0:
        return 0
    if mean < 30:
        limit, product, count = math.exp(-mean), rng.random(), 0
        while product > limit:
            product *= rng.random()
            count += 1
        return count
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


def uid(rng: random.Random) -> str:
    """A version-4-shaped UUID from the generator (reproducible, unlike uuid.uuid4)."""
    h = "%032x" % rng.getrandbits(128)  # noqa: UP031
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def hex_id(rng: random.Random, length: int = 12) -> str:
    return "%0*x" % (length, rng.getrandbits(4 * length))  # noqa: UP031
