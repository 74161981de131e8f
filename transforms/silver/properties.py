"""Typed values from an event's JSON `properties`, read the same way on DuckDB and on Spark.

Trackers do not agree on types: `tokens` arrives as `812` or as `"812"`, a flag as `true` or `"true"`.
Ibis's typed JSON unwrapping returns NULL for the string forms on DuckDB and runs a Python UDF on Spark,
so numbers and booleans are read from the item's JSON text instead, with its quotes removed: the text of
`812` and of `"812"` is then the same on both engines. A missing key, a JSON null or a value that is not of
the type asked for gives NULL, never an error.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

# A whole number, allowing a zero fraction ("812.0": some serializers write every number as a float).
# Character classes instead of backslash escapes: Spark SQL unescapes backslashes in string literals.
_WHOLE_NUMBER = "^[ ]*(-?[0-9]+)([.]0*)?[ ]*$"


def _item(properties: ir.StringValue, key: str) -> ir.JSONValue:
    return properties.cast("json")[key]


def _scalar_text(properties: ir.StringValue, key: str) -> ir.StringValue:
    """The item's JSON text without quotes: `812` and `"812"` both give 812."""
    return _item(properties, key).cast("string").replace('"', "")


def string(properties: ir.StringValue, key: str) -> ir.StringValue:
    """The value when it is a JSON string, else NULL."""
    return _item(properties, key).str


def integer(properties: ir.StringValue, key: str) -> ir.IntegerValue:
    """A whole number given as a JSON number or a numeric string; a fractional value is not one (NULL)."""
    digits = _scalar_text(properties, key).re_extract(_WHOLE_NUMBER, 1)
    return digits.try_cast("int64")


def floating(properties: ir.StringValue, key: str) -> ir.FloatingValue:
    """A number given as a JSON number or a numeric string."""
    return _scalar_text(properties, key).try_cast("float64")


def boolean(properties: ir.StringValue, key: str) -> ir.BooleanValue:
    """true or false, given as a JSON boolean or as the string "true" / "false" in any case."""
    text = _scalar_text(properties, key).lower()
    return ibis.cases((text == "true", True), (text == "false", False), else_=ibis.null("boolean"))
