"""Hooks found from the per-class cache run exactly as Strawberry's own lookup runs them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from gql.schema.hooks import CachedHooksRunner, class_hook

EVENTS: list[str] = []


class Boom(Exception):
    """Raised by a hook to see how the others unwind."""


class Outer(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        EVENTS.append("outer op in")
        try:
            yield
        except Boom:
            EVENTS.append("outer saw boom")
            raise
        finally:
            EVENTS.append("outer op out")

    def on_execute(self) -> Iterator[None]:
        EVENTS.append("outer exec in")
        yield
        EVENTS.append("outer exec out")


class Plain(SchemaExtension):
    def on_parse(self) -> None:  # type: ignore[override]
        EVENTS.append("plain parse")

    async def on_validate(self) -> AsyncIterator[None]:  # type: ignore[override]
        EVENTS.append("async validate in")
        yield
        EVENTS.append("async validate out")


class Failing(SchemaExtension):
    fail = False

    def on_execute(self) -> Iterator[None]:
        EVENTS.append("failing exec in")
        yield
        if Failing.fail:
            raise Boom("after execution")
        EVENTS.append("failing exec out")


class Swallow(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        EVENTS.append("swallow exec in")
        try:
            yield
        except Boom:
            EVENTS.append("swallowed")


class YieldsTwice(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        EVENTS.append("twice exec in")
        yield
        EVENTS.append("twice exec between")
        yield


class NeverYields(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        EVENTS.append("never parse")
        if False:
            yield


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        EVENTS.append("resolver")
        return "hi"


class Cached(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return CachedHooksRunner(execution_context=execution_context, extensions=extensions)


async def run(
    schema_class: type[strawberry.Schema], extensions: list[type[SchemaExtension]]
) -> tuple[list[str], Any]:
    schema = schema_class(query=Query, extensions=extensions)
    EVENTS.clear()
    result = await schema.execute("{ hello }")
    return list(EVENTS), (result.data, [e.message for e in result.errors or ()])


@pytest.mark.parametrize("fail", [False, True])
@pytest.mark.parametrize("middle", [Plain, Swallow])
async def test_cached_hooks_run_like_strawberrys(
    fail: bool, middle: type[SchemaExtension], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Failing, "fail", fail)
    theirs = await run(strawberry.Schema, [Outer, middle, Failing])
    ours = await run(Cached, [Outer, middle, Failing])
    assert ours == theirs
    assert ("outer saw boom" in ours[0]) is (fail and middle is Plain)
    assert ("swallowed" in ours[0]) is (fail and middle is Swallow)


@pytest.mark.parametrize("fail", [False, True])
@pytest.mark.parametrize("odd", [YieldsTwice, NeverYields])
async def test_hooks_that_break_the_protocol_fail_like_strawberrys(
    fail: bool, odd: type[SchemaExtension], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Failing, "fail", fail)
    theirs = await run(strawberry.Schema, [Outer, odd, Failing])
    ours = await run(Cached, [Outer, odd, Failing])
    assert ours == theirs
    # The failing hook is innermost: its error is the one left when it fails after execution.
    assert ("generator didn't" in str(ours[1])) is (not fail or odd is NeverYields)


def test_a_class_without_a_hook_has_none_and_a_generator_is_wrapped_once() -> None:
    assert class_hook(Plain, "on_execute") is None and class_hook(Plain, "on_parse") is not None
    assert class_hook(Outer, "on_execute") is class_hook(Outer, "on_execute") is not None
