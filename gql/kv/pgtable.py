"""What Postgres' catalog says about the KV table, as one-line problems.

Pointing kvgraph at an existing table fails in ways that otherwise show up much later and
much less clearly: a role without a privilege gets masked errors on the first write, a key
without a unique index fails every upsert, and row-level security makes rows look missing
(an empty table, no error). Two catalog queries find all of these, cheaply enough to poll.
"""

from __future__ import annotations

from typing import Any

from gql.kv.base import Fault, TableProblem, quote_table

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
READ_PRIVILEGES = ("SELECT",)  # what `check`, `check --shapes` and `export` need
KEY_TYPES = {"text", "character varying"}
VALUE_TYPES = {"jsonb", "json", "text", "character varying"}

_FACTS = """
SELECT
  current_user AS role,
  n.nspname AS schema,
  has_schema_privilege(c.relnamespace, 'USAGE') AS schema_usage,
  has_table_privilege(c.oid, 'SELECT') AS "SELECT",
  has_table_privilege(c.oid, 'INSERT') AS "INSERT",
  has_table_privilege(c.oid, 'UPDATE') AS "UPDATE",
  has_table_privilege(c.oid, 'DELETE') AS "DELETE",
  c.relrowsecurity AS rls,
  c.relforcerowsecurity AS force_rls,
  r.rolsuper OR r.rolbypassrls AS bypass_rls,
  pg_has_role(c.relowner, 'USAGE') AS owner,
  (SELECT count(*) FROM pg_policy p
    WHERE p.polrelid = c.oid
      AND (0 = ANY (p.polroles)
           OR EXISTS (SELECT 1 FROM unnest(p.polroles) AS pr(oid)
                      WHERE pr.oid <> 0 AND pg_has_role(pr.oid, 'USAGE')))) AS policies,
  (SELECT format_type(a.atttypid, NULL) FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attname = 'key' AND NOT a.attisdropped) AS key_type,
  (SELECT format_type(a.atttypid, NULL) FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attname = 'value' AND NOT a.attisdropped) AS value_type,
  EXISTS (SELECT 1 FROM pg_index i
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
          WHERE i.indrelid = c.oid AND i.indisunique AND i.indimmediate AND i.indisvalid
            AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL
            AND a.attname = 'key') AS key_unique,
  ARRAY(SELECT a.attname::text FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
          AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''
          AND a.attname NOT IN ('key', 'value')
        ORDER BY a.attnum) AS required,
  current_setting('transaction_read_only') = 'on' AS read_only
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_roles r ON r.rolname = current_user
WHERE c.oid = $1
"""


# The search path's schemas in order ("$user" is the role's own), each that holds a relation
# of that name and that the role may not use.
_HIDDEN = """
SELECT n.nspname
FROM unnest(string_to_array(current_setting('search_path'), ',')) WITH ORDINALITY AS p(entry, pos)
JOIN pg_namespace n ON n.nspname = CASE
  WHEN btrim(p.entry) IN ('$user', '"$user"') THEN current_user::text
  ELSE btrim(btrim(p.entry), '"') END
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = $1
WHERE NOT has_schema_privilege(n.oid, 'USAGE')
ORDER BY p.pos
LIMIT 1
"""

_VALUE_TYPE = """
SELECT format_type(a.atttypid, NULL) FROM pg_attribute a
WHERE a.attrelid = to_regclass($1) AND a.attname = 'value' AND NOT a.attisdropped
"""


def _ident(name: str) -> str:
    """A role or schema name as SQL would need it written."""
    simple = name.isidentifier() and name == name.lower() and name.isascii()
    return name if simple else '"' + name.replace('"', '""') + '"'


def grant_hint(table: str, role: str, needed: tuple[str, ...] = PRIVILEGES) -> str:
    """The GRANT that gives `role` what kvgraph needs on `table`."""
    return f"GRANT {', '.join(needed)} ON {table} TO {_ident(role)}"


def schema_denied(schema: str, role: str) -> TableProblem:
    """The role may not use the table's schema (USAGE), so it cannot even look the table up."""
    return TableProblem(
        Fault.NO_READ,
        f"role {_ident(role)} may not use schema {_ident(schema)}: "
        f"GRANT USAGE ON SCHEMA {_ident(schema)} TO {_ident(role)}",
    )


def missing_table(table: str, reason: str) -> TableProblem:
    """The table does not exist and could not be created (`reason`: the server's words)."""
    return TableProblem(
        Fault.MISSING_TABLE,
        f"table {table} does not exist and could not be created ({reason}): create it as "
        f"(key TEXT PRIMARY KEY, value JSONB NOT NULL) or point KVGRAPH_KV_TABLE at yours",
    )


async def inspect_table(conn: Any, table: str, *, writes: bool = True) -> list[TableProblem]:
    """Every problem the catalog shows for `table` and the connected role (`writes=False`:
    for a command that only reads, which needs SELECT only)."""
    oid = await conn.fetchval("SELECT to_regclass($1)::oid", quote_table(table))
    if oid is None:
        if (schema := await hidden_schema(conn, table)) is not None:
            return [schema_denied(schema, await conn.fetchval("SELECT current_user"))]
        return [TableProblem(Fault.MISSING_TABLE, f"table {table} does not exist")]
    facts = await conn.fetchrow(_FACTS, oid)
    return [
        *_shape(table, facts),
        *_privileges(table, facts, PRIVILEGES if writes else READ_PRIVILEGES),
        *_row_security(table, facts),
        *(_read_only(facts) if writes else []),
    ]


async def hidden_schema(conn: Any, table: str) -> str | None:
    """The schema of the search path holding a relation named `table` (unqualified) that the
    role may not use (no USAGE), so `to_regclass` does not see it; None if there is none."""
    if "." in table:
        return None  # a qualified name: to_regclass itself refuses an unusable schema
    found: str | None = await conn.fetchval(_HIDDEN, table)
    return found


async def value_cast(conn: Any, table: str) -> str:
    """The cast that makes text a value of the table's value column: `::jsonb`, `::json`, or
    none for a text column."""
    found = await conn.fetchval(_VALUE_TYPE, table)
    return {"jsonb": "::jsonb", "json": "::json"}.get(found or "jsonb", "")


def _shape(table: str, facts: Any) -> list[TableProblem]:
    found: list[str] = []
    key_type, value_type = facts["key_type"], facts["value_type"]
    if key_type is None:
        found.append(f"table {table} has no column named key")
    elif key_type not in KEY_TYPES:
        found.append(f"column key of {table} is {key_type}: kvgraph needs text")
    elif not facts["key_unique"]:
        found.append(
            f"column key of {table} is not a primary key or unique, so every write would fail "
            f"(ALTER TABLE {table} ADD PRIMARY KEY (key))"
        )
    if value_type is None:
        found.append(f"table {table} has no column named value")
    elif value_type not in VALUE_TYPES:
        found.append(f"column value of {table} is {value_type}: kvgraph needs jsonb, json or text")
    for column in facts["required"]:
        found.append(
            f"column {column} of {table} is NOT NULL without a default, so kvgraph's inserts "
            "(key and value only) would fail"
        )
    return [TableProblem(Fault.SHAPE, message) for message in found]


def _privileges(table: str, facts: Any, needed: tuple[str, ...]) -> list[TableProblem]:
    role = facts["role"]
    if not facts["schema_usage"]:
        return [schema_denied(facts["schema"], role)]
    lacking = [name for name in needed if not facts[name]]
    if not lacking:
        return []
    code = Fault.NO_READ if "SELECT" in lacking else Fault.NO_WRITE
    hint = grant_hint(table, role, needed)
    message = f"role {_ident(role)} lacks {', '.join(lacking)} on {table}: {hint}"
    return [TableProblem(code, message)]


def _row_security(table: str, facts: Any) -> list[TableProblem]:
    if not facts["rls"] or facts["bypass_rls"]:
        return []
    role = _ident(facts["role"])
    if facts["owner"] and not facts["force_rls"]:
        return []  # the owner bypasses its table's policies unless they are forced
    who = f"even for its owner {role} (FORCE)" if facts["owner"] else f"for role {role}"
    policies = facts["policies"]
    scope = (
        "no policy applies, so every row is hidden"
        if policies == 0
        else f"{policies} polic{'y applies' if policies == 1 else 'ies apply'}"
    )
    return [
        TableProblem(
            Fault.RLS,
            f"row-level security on {table} filters rows {who} ({scope}): rows it hides look "
            "missing and writes it forbids fail; use a role with BYPASSRLS, or allow it if the "
            "policies let the role read and write every row",
        )
    ]


def _read_only(facts: Any) -> list[TableProblem]:
    if not facts["read_only"]:
        return []
    return [
        TableProblem(
            Fault.READ_ONLY,
            "the Postgres session is read-only (a standby, or default_transaction_read_only)",
        )
    ]
