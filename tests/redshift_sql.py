"""A lint for SQL that Redshift rejects or reads differently, run on the dbt project's SQL.

Without a cluster nothing executes the SQL on Redshift, so the constructs Redshift's documentation
lists as unsupported (and the DuckDB and PostgreSQL ones it never had) are searched for in the text.
`error` findings fail on Redshift; `risk` findings run but give another result there (the default
length of VARCHAR, the default scale of DECIMAL). Comments and string literals are blanked first, so
only SQL is matched. Jinja is removed from raw files: branches for another `target.type` and macros
dispatched to another adapter are dropped, other tags and expressions are kept out of the match.

Sources: Redshift Developer Guide, "Unsupported PostgreSQL features/functions", "Leader node-only
functions", "Window function syntax summary", PERCENTILE_CONT usage notes, Boolean type.
Run `python -m tests.redshift_sql <files or folders>` to list findings.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ERROR, RISK = "error", "risk"


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    construct: str
    alternative: str
    severity: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: [{self.severity}] {self.construct} -> {self.alternative}"


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    construct: str
    alternative: str
    severity: str = ERROR


def _rule(pattern: str, construct: str, alternative: str, severity: str = ERROR) -> Rule:
    return Rule(re.compile(pattern, re.IGNORECASE), construct, alternative, severity)


_MISSING_TYPES = (
    r"json|jsonb|uuid|string|double(?!\s+precision)|hugeint|ubigint|uinteger|usmallint|utinyint|tinyint"
    r"|int64|int32|int16|int128|float64|float32|bytea|blob|struct|map|list|inet|cidr|money|serial|bigserial"
)
_DUCKDB_FUNCTIONS = {
    "quantile_cont": "percentile_cont(p) within group (order by x)",
    "quantile_disc": "percentile_disc(p) within group (order by x)",
    "quantile": "percentile_cont(p) within group (order by x)",
    "date_diff": "datediff(part, start, end) or dbt.datediff",
    "date_sub": "dateadd(part, -n, date) or dbt.dateadd",
    "epoch": "extract(epoch from ts) or datediff(second, timestamp 'epoch', ts)",
    "epoch_ms": "extract(epoch from ts) * 1000",
    "strftime": "to_char(ts, format)",
    "strptime": "to_timestamp(text, format)",
    "struct_pack": "separate columns",
    "regexp_matches": "regexp_substr / regexp_instr",
    "regexp_full_match": "text ~ '^...$'",
    "arg_max": "row_number() over (partition by … order by … desc) = 1",
    "arg_min": "row_number() over (partition by … order by …) = 1",
    "max_by": "row_number() over (partition by … order by … desc) = 1",
    "min_by": "row_number() over (partition by … order by …) = 1",
    "count_if": "sum(case when … then 1 else 0 end)",
    "countif": "sum(case when … then 1 else 0 end)",
    "ifnull": "coalesce(a, b)",
    "iif": "case when … then … else … end",
    "printf": "to_char / ||",
    "string_split": "split_part(text, delimiter, n)",
    "str_split": "split_part(text, delimiter, n)",
    "approx_quantile": "percentile_cont(p) within group (order by x)",
    "reservoir_quantile": "percentile_cont(p) within group (order by x)",
    "time_bucket": "date_trunc(part, ts)",
    "dayofweek": "date_part(dow, d)",
    "dayofyear": "date_part(doy, d)",
    "weekofyear": "date_part(week, d)",
    "list": "listagg(x, ',') within group (order by x)",
}
_UNSUPPORTED_FUNCTIONS = {
    "string_agg": "listagg(x, delimiter) within group (order by …)",
    "array_agg": "listagg(x, delimiter) within group (order by …)",
    "every": "bool_and(x)",
    "corr": "the formula from sums: (n·Σxy − ΣxΣy) / sqrt((n·Σx² − (Σx)²)(n·Σy² − (Σy)²))",
    "covar_pop": "(Σxy − ΣxΣy/n) / n",
    "covar_samp": "(Σxy − ΣxΣy/n) / (n − 1)",
    "json_agg": "listagg of json text",
    "jsonb_agg": "listagg of json text",
    "json_object_agg": "listagg of json text",
    "xmlagg": "listagg",
    "mode": "row_number() over (partition by … order by count(*) desc) = 1",
    "width_bucket": "floor((x - low) / width) + 1 in a case expression",
    "div": "floor(a / b) or a / b on integers",
    "format": "|| concatenation",
    "overlay": "left(…) || new || substring(…)",
    "convert_from": "no byte conversions: keep text",
    "convert_to": "no byte conversions: keep text",
    "encode": "no byte conversions: keep text",
    "generate_series": "a recursive CTE (with recursive) or dbt.date_spine",
    "generate_subscripts": "a join to a numbers CTE",
    "unnest": "a join to a numbers CTE with split_part",
    "regexp_split_to_table": "a join to a numbers CTE with split_part",
    "regexp_split_to_array": "split_part",
    "string_to_array": "split_part",
    "array_to_string": "listagg",
    "array_length": "no arrays outside SUPER",
    "cardinality": "no arrays outside SUPER",
    "array_position": "no arrays outside SUPER",
    "array_append": "no arrays outside SUPER",
    "array_cat": "no arrays outside SUPER",
    "make_date": "to_date(y || '-' || m || '-' || d, 'YYYY-MM-DD') or dbt.dateadd from a fixed date",
    "make_timestamp": "to_timestamp(text, format) or dbt.dateadd from a fixed date",
    "make_timestamptz": "to_timestamp(text, format)",
    "make_time": "a time literal",
    "make_interval": "dbt.dateadd or interval literals",
    "age": "datediff(part, start, end)",
    "now": "getdate() or sysdate",
    "clock_timestamp": "getdate()",
    "transaction_timestamp": "getdate() or sysdate",
    "statement_timestamp": "getdate()",
    "isfinite": "a comparison with a bound",
    "justify_days": "datediff / dateadd",
    "justify_hours": "datediff / dateadd",
    "justify_interval": "datediff / dateadd",
    "to_ascii": "translate",
}

RULES = (
    _rule(
        r"\)\s*filter\s*\(\s*where\b",
        "aggregate FILTER (WHERE …) clause",
        "sum(case when … then x end), count(case when … then 1 end)",
    ),
    *(
        _rule(rf"(?<![\w.]){name}\s*\(", f"{name}() (not in Redshift)", alternative)
        for name, alternative in _UNSUPPORTED_FUNCTIONS.items()
    ),
    *(
        _rule(rf"(?<![\w.]){name}\s*\(", f"{name}() (DuckDB only)", alternative)
        for name, alternative in _DUCKDB_FUNCTIONS.items()
    ),
    _rule(r"(?<![\w.])list_\w+\s*\(", "DuckDB list function", "no lists: a join, listagg or split_part"),
    _rule(r"\barray\s*[\[(]", "array constructor", "IN (…) or a join to a small CTE"),
    _rule(r"\b(any|all)\s*\(\s*array\b", "= ANY/ALL(ARRAY[…])", "IN (…)"),
    _rule(r"\blateral\b", "LATERAL join", "a join on a pre-aggregated CTE or a window function"),
    _rule(r"\bdistinct\s+on\s*\(", "DISTINCT ON", "row_number() over (partition by … order by …) = 1"),
    _rule(
        r"\bis\s+(not\s+)?distinct\s+from\b",
        "IS [NOT] DISTINCT FROM",
        "(a = b or (a is null and b is null)), or coalesce on both sides",
    ),
    _rule(
        r"\bcount\s*\(\s*distinct\b[^()]*(\([^()]*\)[^()]*)*\)\s*over\b",
        "COUNT(DISTINCT …) OVER (…)",
        "dense_rank() over (… order by x) + dense_rank() over (… order by x desc) - 1, or aggregate first",
    ),
    _rule(
        r"\b(range|groups)\s+(between|unbounded|current\s+row|\d)",
        "RANGE/GROUPS window frame (Redshift has ROWS frames only)",
        "a ROWS frame over one row per key (aggregate first, or join a calendar)",
    ),
    _rule(r"\(\s*values\s*\(", "VALUES list used as a table", "a seed, or select … union all select …"),
    _rule(r"\bgroup\s+by\s+all\b", "GROUP BY ALL (DuckDB)", "list the grouping columns"),
    _rule(r"\*\s*(exclude|replace)\s*\(", "SELECT * EXCLUDE/REPLACE (DuckDB)", "list the columns"),
    _rule(r"->>?|#>>?", "JSON operator", "json_extract_path_text(column, 'key')"),
    _rule(
        rf"::\s*({_MISSING_TYPES})\b",
        "cast to a type Redshift does not have",
        "varchar(n), double precision, bigint, smallint, super",
    ),
    _rule(
        rf"\bas\s+({_MISSING_TYPES})\s*\)",
        "cast to a type Redshift does not have",
        "varchar(n), double precision, bigint, smallint, super",
    ),
    _rule(
        r"(?<![\w.])(current_timestamp|current_time|localtime|localtimestamp)\b(?!\s*\()",
        "leader-node-only date function (fails on tables)",
        "getdate() or sysdate (dbt.current_timestamp())",
    ),
    _rule(
        r"(::\s*(numeric|decimal)\b(?!\s*\())|(\bas\s+(numeric|decimal)\s*\))",
        "DECIMAL without precision is DECIMAL(18,0) in Redshift: fractions are rounded away",
        "numeric(p,s), e.g. numeric(38,6), or double precision",
        RISK,
    ),
    _rule(
        r"(::\s*(varchar|text|character\s+varying|char|character|bpchar)\b(?!\s*\())"
        r"|(\bas\s+(varchar|text|character\s+varying|char|character|bpchar)\s*\))",
        "VARCHAR/TEXT without length is VARCHAR(256) in Redshift (CHAR is CHAR(1)): longer values fail",
        "varchar(n) with the longest value's length (at most 65535)",
        RISK,
    ),
)
# Aggregate and value window functions: with ORDER BY in OVER, Redshift wants an explicit ROWS frame.
_FRAMED = re.compile(
    r"(?<![\w.])(sum|count|avg|min|max|stddev|stddev_samp|stddev_pop|variance|var_samp|var_pop|"
    r"bool_and|bool_or|first_value|last_value|nth_value|ratio_to_report)\s*\(",
    re.IGNORECASE,
)
_SORT_BASED = re.compile(r"(?<![\w.])(percentile_cont|percentile_disc|listagg|median)\s*\(", re.IGNORECASE)
_WITHIN_GROUP = re.compile(r"\s*within\s+group\s*(\()\s*order\s+by\s+", re.IGNORECASE)
_BOOLEAN_IS = re.compile(r"\bis\s+(not\s+)?(true|false|unknown)\b", re.IGNORECASE)
_CLAUSE = re.compile(r"\b(select|where|having|on|from)\b", re.IGNORECASE)


def clean(sql: str) -> str:
    """SQL with comments and string literal contents blanked, keeping every offset and line."""
    out = []
    i = 0
    while i < len(sql):
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = len(sql) if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = len(sql) if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", sql[i:end]))
            i = end
        elif sql[i] == "'":
            end = i + 1
            while end < len(sql) and not (sql[end] == "'" and not sql.startswith("''", end)):
                end += 2 if sql.startswith("''", end) else 1
            out.append("'" + re.sub(r"[^\n]", " ", sql[i + 1 : end]) + "'")
            i = end + 1
        else:
            out.append(sql[i])
            i += 1
    return "".join(out)


_TAG = re.compile(r"\{#.*?#\}|\{%-?\s*(.*?)\s*-?%\}|\{\{.*?\}\}", re.DOTALL)
_TARGET_TYPE = re.compile(r"^target\.type\s*(==|!=)\s*['\"](\w+)['\"]$")
_MACRO = re.compile(r"^macro\s+(\w+)")


def strip_jinja(text: str, adapter: str = "redshift") -> str:
    """Raw dbt SQL with Jinja blanked: what a target of `adapter` compiles, as far as tags tell.

    `{% if target.type == '…' %}` branches for another adapter and `{% macro other__name %}` blocks
    dispatched to another adapter are blanked whole; every other tag, comment and expression is blanked
    alone (its text is not SQL). Offsets and lines are kept.
    """
    chars = list(text)
    # Each open block: (kind, keep, start of the current branch, whether a branch was taken already).
    stack: list[list] = []

    def blank(start: int, end: int) -> None:
        for k in range(start, end):
            if chars[k] != "\n":
                chars[k] = " "

    for match in _TAG.finditer(text):
        statement = match.group(1)
        blank(match.start(), match.end())
        if statement is None:
            continue
        word = statement.split(maxsplit=1)[0] if statement else ""
        if word == "if":
            decided = _decide(statement[2:].strip(), adapter)
            stack.append(["if", decided is not False, match.end(), decided is True, decided is None])
        elif word in ("elif", "else") and stack and stack[-1][0] == "if":
            block = stack[-1]
            if not block[1]:
                blank(block[2], match.start())
            if block[4]:  # an undecidable condition: every branch may compile
                block[1], block[2] = True, match.end()
                continue
            decided = True if word == "else" else _decide(statement[4:].strip(), adapter)
            block[1] = not block[3] and decided is not False
            block[3] = block[3] or decided is True
            block[4] = decided is None
            block[2] = match.end()
        elif word == "endif" and stack and stack[-1][0] == "if":
            block = stack.pop()
            if not block[1]:
                blank(block[2], match.start())
        elif word == "macro":
            name = _MACRO.match(statement)
            prefix = name and "__" in name[1] and name[1].split("__", 1)[0]
            stack.append(["macro", not prefix or prefix in ("default", adapter), match.end(), False, False])
        elif word == "endmacro" and stack and stack[-1][0] == "macro":
            block = stack.pop()
            if not block[1]:
                blank(block[2], match.start())
    return "".join(chars)


def _decide(condition: str, adapter: str) -> bool | None:
    compared = _TARGET_TYPE.match(condition)
    if compared is None:
        return None
    operator, name = compared.groups()
    return (name == adapter) == (operator == "==")


def lint(sql: str, file: str) -> list[Finding]:
    """Findings in one SQL text (already free of Jinja)."""
    text = clean(sql)
    findings = []
    for rule in RULES:
        for match in rule.pattern.finditer(text):
            findings.append(
                Finding(file, _line(text, match.start()), rule.construct, rule.alternative, rule.severity)
            )
    findings += _frame_findings(text, file)
    findings += _sort_based_findings(text, file)
    findings += _boolean_is_findings(text, file)
    findings += _concat_findings(text, file)
    findings += _recursive_findings(text, file)
    return sorted(set(findings), key=lambda f: (f.file, f.line, f.construct))


def _frame_findings(text: str, file: str) -> list[Finding]:
    findings = []
    for match in _FRAMED.finditer(text):
        close = _closing(text, match.end() - 1)
        over = re.compile(r"\s*over\s*\(", re.IGNORECASE).match(text, close + 1)
        if over is None:
            continue
        window = text[over.end() : _closing(text, over.end() - 1)].lower()
        if re.search(r"\border\s+by\b", window) and not re.search(r"\brows\b", window):
            findings.append(
                Finding(
                    file,
                    _line(text, match.start()),
                    f"{match[1].lower()}() OVER (… ORDER BY …) without a frame clause",
                    "add `rows between unbounded preceding and current row` (or the frame meant)",
                    ERROR,
                )
            )
    return findings


def _sort_based_findings(text: str, file: str) -> list[Finding]:
    """Redshift: every LISTAGG, PERCENTILE_CONT and MEDIAN of one statement sorts by the same values."""
    orders = {}
    for match in _SORT_BASED.finditer(text):
        close = _closing(text, match.end() - 1)
        if match[1].lower() == "median":
            key = text[match.end() : close]
        else:
            within = _WITHIN_GROUP.match(text, close + 1)
            if within is None:
                continue
            key = text[within.end() : _closing(text, within.start(1))]
            key = re.sub(r"\s+(asc|desc)\s*$", "", key.strip(), flags=re.IGNORECASE)
        orders.setdefault(" ".join(key.lower().split()), _line(text, match.start()))
    if len(orders) < 2:
        return []
    line = sorted(orders.values())[1]
    return [
        Finding(
            file,
            line,
            "sort-based aggregates (percentile_cont, median, listagg) ordered by different values in one "
            f"statement: {'; '.join(sorted(orders))}",
            "compute each percentile in its own statement (separate models) or order all by the same value",
            ERROR,
        )
    ]


def _boolean_is_findings(text: str, file: str) -> list[Finding]:
    """IS TRUE/FALSE/UNKNOWN on a boolean is allowed only as a WHERE predicate in Redshift."""
    findings = []
    for match in _BOOLEAN_IS.finditer(text):
        if _clause_of(text, match.start()) == "select":
            findings.append(
                Finding(
                    file,
                    _line(text, match.start()),
                    "IS TRUE/FALSE/UNKNOWN in a SELECT list",
                    "= true / = false, or coalesce(x, false)",
                    ERROR,
                )
            )
    return findings


def _clause_of(text: str, offset: int) -> str | None:
    """The clause (select, where, having, on, from) the text at offset is in, skipping nested parentheses."""
    tokens = [(m.start(), m[1].lower()) for m in _CLAUSE.finditer(text, 0, offset)]
    tokens += [(i, text[i]) for i in range(offset) if text[i] in "()"]
    depth = 0
    for _, token in sorted(tokens, reverse=True):
        if token == ")":
            depth += 1
        elif token == "(":
            depth = max(depth - 1, 0)
        elif depth == 0 and token in ("select", "where", "having", "on", "from"):
            return token
    return None


def _concat_findings(text: str, file: str) -> list[Finding]:
    findings = []
    for match in re.finditer(r"(?<![\w.])concat\s*\(", text, re.IGNORECASE):
        arguments = _top_level_commas(text, match.end() - 1) + 1
        if arguments > 2:
            findings.append(
                Finding(
                    file,
                    _line(text, match.start()),
                    f"concat() with {arguments} arguments (Redshift's takes two)",
                    "a || b || c (or dbt.concat)",
                    ERROR,
                )
            )
    return findings


def _recursive_findings(text: str, file: str) -> list[Finding]:
    """Redshift requires the column list on a recursive CTE: `days (day, last_day) as (…)`."""
    if not re.search(r"\bwith\s+recursive\b", text, re.IGNORECASE):
        return []
    findings = []
    for match in re.finditer(r"(?<![\w.])(\w+)\s+as\s*\(", text, re.IGNORECASE):
        body = text[match.end() : _closing(text, match.end() - 1)]
        if re.search(rf"\b(from|join)\s+{re.escape(match[1])}\b", body, re.IGNORECASE):
            findings.append(
                Finding(
                    file,
                    _line(text, match.start()),
                    f"recursive CTE {match[1]} without a column list",
                    f"{match[1]} (column, …) as (…)",
                    ERROR,
                )
            )
    return findings


def _closing(text: str, open_at: int) -> int:
    depth = 0
    for index in range(open_at, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(text)


def _top_level_commas(text: str, open_at: int) -> int:
    depth, commas = 0, 0
    for index in range(open_at, _closing(text, open_at)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        commas += text[index] == "," and depth == 1
    return commas


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def lint_files(paths: Iterable[Path], root: Path, *, jinja: bool) -> list[Finding]:
    findings = []
    for path in paths:
        sql = path.read_text()
        findings += lint(strip_jinja(sql) if jinja else sql, str(path.relative_to(root)))
    return findings


def main(argv: list[str]) -> int:
    paths = [
        p.resolve()
        for arg in argv
        for p in (sorted(Path(arg).rglob("*.sql")) if Path(arg).is_dir() else [Path(arg)])
    ]
    findings = lint_files(paths, Path.cwd(), jinja=True)
    for finding in findings:
        print(finding)
    return 1 if any(f.severity == ERROR for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
