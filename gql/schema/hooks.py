"""Schema extension hooks looked up once per extension class, not once per request and stage.

Strawberry finds each extension's hooks anew for every request and each of its four stages
(about a dozen extensions: some fifty lookups), wrapping every generator method in a fresh
`contextlib.contextmanager` (a `functools.wraps` each). Here the lookup and the wrapper are
made once per class and hook name. Entering and leaving the hooks is still Strawberry's own
exit stack, so they run in the same order with the same exception handling; hooks that are
not generator functions are left to Strawberry's own lookup.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

Factory = Callable[[SchemaExtension], contextlib.AbstractContextManager[None]]


def _STRAWBERRY(extension: SchemaExtension) -> contextlib.AbstractContextManager[None]:
    """Marker of a hook that is not a generator function: Strawberry wraps it itself."""
    raise NotImplementedError


_FACTORIES: dict[tuple[type, str], Factory | None] = {}


def hook_factory(cls: type[SchemaExtension], name: str) -> Factory | None:
    """The context manager factory of a class's hook `name`; None when it defines none."""
    key = (cls, name)
    if key not in _FACTORIES:
        hook = getattr(cls, name)
        if hook is getattr(SchemaExtension, name):
            _FACTORIES[key] = None
        elif inspect.isgeneratorfunction(hook):
            _FACTORIES[key] = contextlib.contextmanager(hook)
        else:
            _FACTORIES[key] = _STRAWBERRY
    return _FACTORIES[key]


class _Cached:
    """`get_hook` from the per-class cache (mixed into Strawberry's stage managers)."""

    __slots__ = ()
    HOOK_NAME: str

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        factory = hook_factory(type(extension), self.HOOK_NAME)
        if factory is None:
            return None
        if factory is _STRAWBERRY:
            return super().get_hook(extension)  # type: ignore[misc]
        return WrappedHook(extension=extension, hook=partial(factory, extension), is_async=False)


class OperationHooks(_Cached, OperationContextManager):
    """`on_operation` hooks."""


class ValidationHooks(_Cached, ValidationContextManager):
    """`on_validate` hooks."""


class ParsingHooks(_Cached, ParsingContextManager):
    """`on_parse` hooks."""


class ExecutingHooks(_Cached, ExecutingContextManager):
    """`on_execute` hooks."""


class CachedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's extensions runner with the hooks of each stage found from the cache."""

    def operation(self) -> Any:
        return OperationHooks(self.extensions)

    def validation(self) -> Any:
        return ValidationHooks(self.extensions)

    def parsing(self) -> Any:
        return ParsingHooks(self.extensions)

    def executing(self) -> Any:
        return ExecutingHooks(self.extensions)
