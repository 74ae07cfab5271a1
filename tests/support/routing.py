"""Which distributed tables a SQL statement reaches without naming their store.

Citus sends a statement to one worker only when every distributed table in it is pinned to one
`store_id`: compared with a bound value, or joined on `store_id` with a table that is. This reads
the statements SQLAlchemy compiles for idstore (qualified column names, `$1` or `?` parameters),
not any SQL: enough for the statements of the attempts (tests/api/test_distribution_statements.py,
which also checks this reading on examples, and tests/api/test_distribution_ceremonies.py).
"""

from __future__ import annotations

import re

from idstore.db.distribution import DISTRIBUTION_COLUMN, distributed_tables

_PARAMETER = r"(?:\$\d+(?:::[\w ]+?)?|\?|:\w+)"
_QUALIFIED = rf"(\w+)\.{DISTRIBUTION_COLUMN}"
_BOUND = re.compile(
    rf"{_QUALIFIED}\s*=\s*{_PARAMETER}|{_PARAMETER}\s*=\s*{_QUALIFIED}", re.IGNORECASE
)
_JOINED = re.compile(rf"{_QUALIFIED}\s*=\s*{_QUALIFIED}", re.IGNORECASE)
_UNQUALIFIED = re.compile(rf"(?<![\w.]){DISTRIBUTION_COLUMN}\s*=\s*{_PARAMETER}", re.IGNORECASE)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.IGNORECASE)
_SINGLE_TABLE = re.compile(r"^\s*(?:UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)


def referenced_tables(statement: str) -> set[str]:
    """The distributed tables the statement names (after FROM, JOIN, UPDATE or INTO)."""
    named = re.findall(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)", statement, re.IGNORECASE)
    return set(named) & set(distributed_tables())


def unrouted_tables(statement: str) -> set[str]:
    """The distributed tables of `statement`, or of any of its WITH clauses, not pinned to one
    store (Citus routes a statement to one worker only when each part is)."""
    return set().union(*(_unrouted_in_part(part) for part in parts(statement)))


def parts(statement: str) -> list[str]:
    """The bodies of the statement's WITH clauses, then the statement after them."""
    found = []
    rest = statement.lstrip()
    while (opening := _WITH_CLAUSE.match(rest)) is not None:
        end = _closing_parenthesis(rest, opening.end() - 1)
        found.append(rest[opening.end() : end])
        rest = rest[end + 1 :].lstrip()
    return [*found, rest]


_WITH_CLAUSE = re.compile(r"^(?:WITH|,)\s+\w+\s+AS\s*\(", re.IGNORECASE)


def _closing_parenthesis(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise ValueError(f"unbalanced parentheses: {text!r}")


def _unrouted_in_part(statement: str) -> set[str]:
    tables = referenced_tables(statement)
    inserted = _INSERT.match(statement)
    if inserted:
        columns = {column.strip() for column in inserted.group(2).split(",")}
        return set() if DISTRIBUTION_COLUMN in columns else {inserted.group(1)}
    pinned = {left or right for left, right in _BOUND.findall(statement)}
    single = _SINGLE_TABLE.match(statement)
    if single and _UNQUALIFIED.search(statement):
        pinned.add(single.group(1))
    joins = _JOINED.findall(statement)
    while True:  # a table joined on store_id with a pinned one is pinned too
        more = {b for a, b in joins if a in pinned} | {a for a, b in joins if b in pinned}
        if more <= pinned:
            break
        pinned |= more
    return tables - pinned


def verb(statement: str) -> str:
    """The statement's verb: of the statement after its WITH clauses, if it has any."""
    return parts(statement)[-1].split(None, 1)[0].upper()


def unrouted(statements: list[str]) -> list[str]:
    """`VERB table` for each distributed table a statement reaches without naming its store."""
    return sorted(
        {
            f"{verb(part)} {table}"
            for statement in statements
            for part in parts(statement)
            for table in _unrouted_in_part(part)
        }
    )


def reached(statements: list[str]) -> set[str]:
    """The distributed tables the statements name at all."""
    # Checked by the tests: statements run past SQLAlchemy's events would make `unrouted` empty.
    return set().union(*(referenced_tables(s) for s in statements))
