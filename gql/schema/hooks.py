"""Schema extension hooks looked up once per extension class, not once per request and stage.

Strawberry finds each extension's hooks anew for every request and each of its four stages
(about a dozen extensions: some fifty lookups), wrapping every generator method in a fresh
`contextlib.contextmanager` (a `functools.wraps` each). Here the lookup and the wrapper are
made once per class and hook name, and a stage enters its hooks in order and leaves them in
reverse without an exit stack unless something raises (then a real `ExitStack` unwinds
them, so exceptions are handled as Strawberry handles them). A stage with a hook that is not
a generator function is left to Strawberry's own manager.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

Factory = Callable[[SchemaExtension], contextlib.AbstractContextManager[None]]


def _STRAWBERRY(extension: SchemaExtension) -> contextlib.AbstractContextManager[None]:
    """Marker of a hook that is not a generator function: Strawberry wraps it itself."""
    raise NotImplementedError


_FACTORIES: dict[tuple[type, str], Factory | None] = {}
_STAGES: dict[tuple[tuple[type, ...], str], tuple[tuple[tuple[Factory, int], ...], bool]] = {}


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


class Stage:
    """One stage's hooks (`on_operation`, ...) entered in order and left in reverse, as
    Strawberry's exit stack does, without building an exit stack when nothing goes wrong.

    When a hook (or the stage's body) raises, the hooks left to unwind are handed to a real
    `ExitStack`, so what they see, and what propagates, is what Strawberry's manager gives:
    the stage itself never suppresses the body's exception. A stage with a hook that is not
    a generator function is left whole to Strawberry's manager.
    """

    __slots__ = ("_entered", "_fallback", "_hooks")

    def __init__(
        self,
        manager: type[ExtensionContextManagerBase],
        extensions: list[SchemaExtension],
        classes: tuple[type, ...] | None = None,
    ) -> None:
        hooks, strawberry = _stage_hooks(classes or _classes(extensions), manager.HOOK_NAME)
        self._hooks = [(factory, extensions[at]) for factory, at in hooks]
        self._entered: list[contextlib.AbstractContextManager[None]] = []
        self._fallback = manager(extensions) if strawberry else None

    def __enter__(self) -> None:
        if self._fallback is not None:
            self._fallback.__enter__()
            return
        for factory, extension in self._hooks:
            entered = factory(extension)
            entered.__enter__()
            self._entered.append(entered)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fallback is not None:
            self._fallback.__exit__(exc_type, exc, tb)
            return
        entered = self._entered
        if exc is not None:
            _unwind(entered, exc)
            return
        for index in range(len(entered) - 1, -1, -1):
            try:
                entered[index].__exit__(None, None, None)
            except BaseException as error:
                if not _unwind(entered[:index], error):
                    raise
                return

    async def __aenter__(self) -> None:
        if self._fallback is not None:
            await self._fallback.__aenter__()
        else:
            self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fallback is not None:
            await self._fallback.__aexit__(exc_type, exc, tb)
        else:
            self.__exit__(exc_type, exc, tb)


def _classes(extensions: list[SchemaExtension]) -> tuple[type, ...]:
    return tuple(type(extension) for extension in extensions)


def _stage_hooks(
    classes: tuple[type, ...], name: str
) -> tuple[tuple[tuple[Factory, int], ...], bool]:
    """A stage's hooks for extensions of these classes: (factory, position) in order, and
    whether one of them is left to Strawberry; found once per list of classes."""
    key = (classes, name)
    found = _STAGES.get(key)
    if found is None:
        factories = [(hook_factory(cls, name), at) for at, cls in enumerate(classes)]
        hooks = tuple((f, at) for f, at in factories if f is not None)
        found = _STAGES[key] = (hooks, any(f is _STRAWBERRY for f, _ in hooks))
    return found


def _unwind(entered: list[contextlib.AbstractContextManager[None]], error: BaseException) -> bool:
    """Leave `entered` (innermost last) with `error` as an exit stack would; True if one of
    them suppressed it, and whatever a hook raises instead propagates."""
    stack = contextlib.ExitStack()
    for manager in entered:
        stack.push(manager)
    return bool(stack.__exit__(type(error), error, error.__traceback__))


class CachedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's extensions runner with each stage's hooks found from the cache."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._classes = _classes(self.extensions)

    def operation(self) -> Any:
        return Stage(OperationContextManager, self.extensions, self._classes)

    def validation(self) -> Any:
        return Stage(ValidationContextManager, self.extensions, self._classes)

    def parsing(self) -> Any:
        return Stage(ParsingContextManager, self.extensions, self._classes)

    def executing(self) -> Any:
        return Stage(ExecutingContextManager, self.extensions, self._classes)
