"""`kvgraph check --shapes`: print what the table's records look like and a proposed mapping."""

from __future__ import annotations

import json
import sys
from collections import Counter

from gql.commands.check import examples, usable
from gql.kv.base import StoreError
from gql.kv.mapping import AppMapping, Entry
from gql.kv.shapes import EntityShape, Shapes, expectations, missing_required, reading, scan_shapes
from gql.web.settings import Settings

SHOWN_VALUES = 6  # enum values shown per field (most common first)


def _counts(counter: Counter[str], limit: int = SHOWN_VALUES) -> str:
    shown = [f"{name} {n:,}" for name, n in counter.most_common(limit)]
    more = len(counter) - limit
    return ", ".join(shown) + (f", +{more} more" if more > 0 else "")


def _records(n: int) -> str:
    return f"{n:,} record" if n == 1 else f"{n:,} records"


def _reads_as(
    shape: EntityShape, name: str, mapping: AppMapping, proposed: dict[str, Entry]
) -> str:
    """The last column: how kvgraph reads a stored field name."""
    model = shape.spec.model
    read = reading(model, mapping.entities.get(model), name)
    if read.status in {"embedded", "property"}:
        what = "embedded object" if read.status == "embedded" else "model property"
        text = f"-> {read.note} ({what})"
    elif read.target is None:
        text = "not read (kept as is)"
    else:
        want = expectations(model)[read.target].text()
        text = want if read.status == "field" else f"-> {read.target} ({read.status}), {want}"
    if name in proposed:
        entry = proposed[name]
        text += f'; propose {name} = "{entry.means}"' + ("" if entry.write else " (read-only)")
    return text


def _value_label(value: str, known: tuple[str, ...], mapped: dict[str, str]) -> str:
    """A stored enum value: as is when known, `app=kvgraph` when mapped, `value?` if unknown."""
    if value in known:
        return value
    return f"{value}={mapped[value]}" if value in mapped else f"{value}?"


def _details(shape: EntityShape, name: str, mapping: AppMapping) -> str:
    """Enum values (unknown ones marked `?`) or date/time formats, with counts."""
    stats, model = shape.fields[name], shape.spec.model
    entity = mapping.entities.get(model)
    target = reading(model, entity, name).target
    if stats.values and target is not None:
        known = expectations(model)[target].values
        mapped = dict(entity.values.get(target, {})) if entity else {}
        labels = Counter({_value_label(v, known, mapped): n for v, n in stats.values.items()})
        return f"  [{_counts(labels)}]"
    return f"  [{_counts(stats.formats)}]" if stats.formats else ""


def entity_lines(shape: EntityShape, mapping: AppMapping, proposed: dict[str, Entry]) -> list[str]:
    """The block of one entity key pattern: a row per stored field name, then problems."""
    head = f"{shape.spec.pattern.template}  {_records(shape.records)}"
    bad = sum(shape.invalid.values())
    lines = [head + (f", {bad:,} invalid" if bad else "")]
    fields = sorted(shape.fields, key=lambda n: (-shape.fields[n].records, n))
    width = max((len(n) for n in fields), default=4)
    for name in fields:
        stats = shape.fields[name]
        types = _counts(stats.types, 3) if len(stats.types) > 1 else next(iter(stats.types))
        row = f"  {name:<{width}}  {stats.records:>7,}  {types:<18}  "
        lines.append(
            row + _reads_as(shape, name, mapping, proposed) + _details(shape, name, mapping)
        )
    for name in missing_required(shape):
        lines.append(f"  missing: {name} (required) is absent or null in some records")
    for reason, n in shape.invalid.most_common(3):
        lines.append(f"  invalid: {_records(n)}: {reason}")
    if shape.dropped:
        lines.append(f"  left empty (value unreadable): {_counts(shape.dropped)}")
    return lines


def shape_lines(shapes: Shapes) -> list[str]:
    """A short account of a scan, then the proposed mapping file."""
    lines = [
        f"scanned {shapes.scanned:,} keys (mapping: {shapes.mapping.source})",
        "per key pattern: stored field, records with it, JSON types, how kvgraph reads it "
        "[values (? = unknown) or time formats]",
    ]
    proposal = shapes.proposal()
    for name in sorted(shapes.entities):
        proposed = proposal.names.get(name, {})
        lines += ["", *entity_lines(shapes.entities[name], shapes.mapping, proposed)]
    if shapes.indexes:
        lines += ["", "indexes and lists:"]
        for pattern, index in sorted(shapes.indexes.items()):
            elements = f"; elements: {_counts(index.elements, 4)}" if index.elements else ""
            lines.append(f"  {pattern}  {index.keys:,} keys: {_counts(index.values, 4)}{elements}")
    if shapes.unknown:
        lines += ["", f"keys kvgraph does not know (left alone): {_counts(shapes.unknown, 8)}"]
    if shapes.unreadable:
        lines += ["", f"values kvgraph cannot read ({len(shapes.unreadable):,}; kept as they are):"]
        lines += examples([f"{key}: {why}" for key, why in shapes.unreadable])
    lines.append("")
    new = sum(map(len, proposal.names.values()))
    new += sum(len(t) for fields in proposal.values.values() for t in fields.values())
    if not new:
        notes = [f"  {entity}.{note}" for entity, ns in proposal.notes.items() for note in ns]
        head = "nothing (more) to map" + (": values kvgraph keeps as they are:" if notes else "")
        return [*lines, head, *notes]
    lines.append(
        f"proposed mapping file ({new} new entries; review it, save it as kvgraph.toml, "
        "then set KVGRAPH_MAPPING_FILE=kvgraph.toml):"
    )
    return [*lines, proposal.toml(shapes.mapping).rstrip()]


def _progress(scanned: int) -> None:
    print(f"scanned {scanned:,} keys…", file=sys.stderr, flush=True)


async def shapes_command(settings: Settings, *, as_json: bool) -> int:
    """Scan the store once and print its shapes (exit 1 if it holds values kvgraph cannot
    read, 2 if the table cannot be read, as `check` says why)."""
    store = settings.make_store()
    try:
        if not await usable(store, settings, writes=False, what="described"):
            return 2
        shapes = await scan_shapes(store, settings.mapping(), _progress)
    except StoreError as exc:
        print(f"store error: {exc}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    if as_json:
        print(json.dumps(shapes.to_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(shape_lines(shapes)))
    return 1 if shapes.unreadable else 0
