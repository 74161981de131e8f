"""docs/silver.md documents every silver table as it is declared.

Each table of `SILVER_TABLES` has one section, headed by its name. The section's summary bullets (grain,
partitioning, inputs, scope column, driver, lookups) match the declaration, and its column table lists
every key and partition column. A table added, renamed or re-keyed without its section fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from transforms.registry import SILVER_TABLES
from transforms.table import SilverTable

DOC = Path(__file__).resolve().parents[2] / "docs" / "silver.md"
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
BULLET = re.compile(r"^- \*\*(?P<label>[^*]+?):\*\*\s*(?P<text>.*)$")
CODE = re.compile(r"`([^`]+)`")


def sections(doc: str) -> dict[str, list[str]]:
    """Heading text (without backticks) -> the lines under it, up to the next heading of its level or above.

    Lines inside fenced code blocks are never headings.
    """
    lines = doc.splitlines()
    headings = []
    in_code = False
    for number, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            headings.append((number, len(match.group(1)), match.group(2).replace("`", "").strip()))
    found: dict[str, list[str]] = {}
    for index, (start, level, title) in enumerate(headings):
        end = next((n for n, lvl, _ in headings[index + 1 :] if lvl <= level), len(lines))
        found.setdefault(title, []).extend(lines[start + 1 : end])
    return found


def heading_counts(doc: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in doc.splitlines():
        match = HEADING.match(line)
        if match:
            title = match.group(2).replace("`", "").strip()
            counts[title] = counts.get(title, 0) + 1
    return counts


def bullets(body: list[str]) -> dict[str, str]:
    """`- **Label:** text` lines of a section, with their indented continuation lines joined."""
    found: dict[str, str] = {}
    label = None
    for line in body:
        match = BULLET.match(line)
        if match:
            label = match.group("label").strip().lower()
            found[label] = match.group("text")
        elif label is not None and line.startswith("  ") and line.strip():
            found[label] += " " + line.strip()
        else:
            label = None
    return found


def documented_columns(body: list[str]) -> list[str]:
    """The first cell of each row of the section's column table (`| `name` | type | meaning |`)."""
    return [m.group(1) for line in body if (m := re.match(r"^\|\s*`([^`]+)`\s*\|", line))]


def problems(doc: str, tables: tuple[SilverTable, ...] = SILVER_TABLES) -> list[str]:
    """Everything in which the document disagrees with the declarations (empty when it agrees)."""
    found = sections(doc)
    counts = heading_counts(doc)
    issues = []
    for table in tables:
        if table.name not in found:
            issues.append(f"{table.name}: no section headed by its name")
            continue
        if counts[table.name] > 1:
            issues.append(f"{table.name}: {counts[table.name]} sections headed by its name")
        issues += [f"{table.name}: {issue}" for issue in section_problems(table, found[table.name])]
    return issues


def section_problems(table: SilverTable, body: list[str]) -> list[str]:
    """How one table's section disagrees with its declaration."""
    text = "\n".join(body)
    columns = documented_columns(body)
    facts = bullets(body)

    def names(label: str) -> list[str] | None:
        value = facts.get(label)
        return None if value is None else CODE.findall(value)

    issues = []
    for key in table.keys:
        if key not in columns:
            issues.append(f"key column {key!r} is not in the section's column table")
        if f"`{key}`" not in text:
            issues.append(f"key column {key!r} is not named in the section")
    for column in table.partition_by:
        if column not in columns:
            issues.append(f"partition column {column!r} is not in the section's column table")
    if len(set(columns)) != len(columns):
        issues.append("a column is listed twice")
    if (grain := names("grain")) != list(table.keys):
        issues.append(f"Grain says {grain}, declared keys are {list(table.keys)}")
    expected = list(table.partition_by)
    if names("partitioned by") != expected or (not expected and "none" not in facts["partitioned by"]):
        issues.append(f"Partitioned by says {facts.get('partitioned by')!r}, declared {expected}")
    if sorted(inputs := names("inputs") or []) != sorted(table.inputs):
        issues.append(f"Inputs says {inputs}, declared {list(table.inputs)}")
    spec = table.incremental
    if spec is None:
        return issues
    if (scope := names("scope column") or [None])[0] != spec.column:
        issues.append(f"Scope column says {scope}, declared {spec.column!r}")
    if spec.column not in columns:
        issues.append(f"scope column {spec.column!r} is not in the section's column table")
    if (driver := names("driver") or [None])[0] != table.driver:
        issues.append(f"Driver says {driver}, declared {table.driver!r}")
    lookups = names("lookups") or []
    missing = [name for name in spec.lookups if name not in lookups]
    issues += [f"Lookups does not name the declared lookup {name!r}" for name in missing]
    if not spec.lookups and "none" not in facts.get("lookups", ""):
        issues.append("Lookups should say none")
    return issues


def test_every_silver_table_is_documented_as_declared() -> None:
    assert len(SILVER_TABLES) >= 31
    assert problems(DOC.read_text(encoding="utf-8")) == []


def _without_line(doc: str, line: str) -> str:
    assert line in doc.splitlines(), line
    return "\n".join(candidate for candidate in doc.splitlines() if candidate != line)


def test_a_missing_table_or_key_fails() -> None:
    """The check itself can fail: a table without its section, or a key the section leaves out."""
    doc = DOC.read_text(encoding="utf-8")
    without_heading = _without_line(doc, "#### `silver/touchpoints`")
    assert "silver/touchpoints: no section headed by its name" in problems(without_heading)

    row = next(line for line in doc.splitlines() if line.startswith("| `valid_from` |"))
    without_key = doc.replace(row + "\n", "", 1)
    assert any("'valid_from' is not in the section's column table" in p for p in problems(without_key))

    regrained = doc.replace(
        "- **Grain:** `spend_date`, `channel`, `campaign`, `currency`", "- **Grain:** `spend_date`"
    )
    assert any(p.startswith("silver/ad_spend: Grain says") for p in problems(regrained))


def test_sections_end_at_the_next_heading_of_their_level() -> None:
    doc = (
        "## A\n\nintro\n\n### `silver/x`\n\n| `id` | string | x |\n\n### `silver/y`\n\n| `k` | int64 | y |\n"
    )
    found = sections(doc)
    assert documented_columns(found["silver/x"]) == ["id"]
    assert documented_columns(found["silver/y"]) == ["k"]
    assert documented_columns(found["A"]) == ["id", "k"]
