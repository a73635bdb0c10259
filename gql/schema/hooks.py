"""Schema extension hooks looked up once per extension class, not once per request and stage.

Strawberry finds each extension's hooks anew for every request and each of its four stages
(about a dozen extensions: some fifty lookups), wrapping every generator method in a fresh
`contextlib.contextmanager` (a `functools.wraps` each). Here the lookup is made once per list
of extension classes and stage, and a stage steps its hooks' generators itself: entered in
order, left in reverse, without an exit stack or a context manager per hook unless something
raises (then a real `ExitStack` unwinds them, each as `contextmanager` would, so exceptions
are handled as Strawberry handles them). A stage with a hook that is not a generator function
is left to Strawberry's own manager.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Generator
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
from strawberry.types import ExecutionContext
from strawberry.utils.await_maybe import await_maybe

Hook = Callable[[SchemaExtension], Generator[None, None, None]]


def _STRAWBERRY(extension: SchemaExtension) -> Generator[None, None, None]:
    """Marker of a hook that is not a generator function: Strawberry wraps it itself."""
    raise NotImplementedError


StageHooks = tuple[tuple[tuple[Hook, int], ...], bool]
_DONE = object()  # what `next` gives for a generator that returned
_STAGES: dict[tuple[tuple[type[SchemaExtension], ...], str], StageHooks] = {}


def class_hook(cls: type[SchemaExtension], name: str) -> Hook | None:
    """A class's generator hook `name` (`_STRAWBERRY` if it is another kind); None when it
    defines none."""
    hook = getattr(cls, name)
    if hook is getattr(SchemaExtension, name):
        return None
    return hook if inspect.isgeneratorfunction(hook) else _STRAWBERRY


class _Started(contextlib.AbstractContextManager[None]):
    """A started generator hook as `contextlib.contextmanager` would leave it (its `__exit__`
    is that one's), made only when something raises and an exit stack takes over."""

    __slots__ = ("gen",)

    def __init__(self, gen: Generator[None, None, None]) -> None:
        self.gen = gen

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if typ is None:
            try:
                next(self.gen)
            except StopIteration:
                return False
            raise RuntimeError("generator didn't stop")
        if value is None:
            value = typ()
        try:
            self.gen.throw(value)
        except StopIteration as exc:
            return exc is not value
        except RuntimeError as exc:
            if exc is value:
                exc.__traceback__ = traceback
                return False
            if isinstance(value, StopIteration) and exc.__cause__ is value:
                value.__traceback__ = traceback
                return False
            raise
        except BaseException as exc:
            if exc is not value:
                raise
            exc.__traceback__ = traceback
            return False
        raise RuntimeError("generator didn't stop after throw()")


class Stage:
    """One stage's hooks (`on_operation`, ...) entered in order and left in reverse, as
    Strawberry's exit stack does, without building an exit stack when nothing goes wrong.

    When a hook (or the stage's body) raises, the hooks left to unwind are handed to a real
    `ExitStack`, so what they see, and what propagates, is what Strawberry's manager gives:
    the stage itself never suppresses the body's exception. A stage with a hook that is not
    a generator function is left whole to Strawberry's manager.
    """

    __slots__ = ("_entered", "_extensions", "_fallback", "_hooks")

    def __init__(
        self,
        manager: type[ExtensionContextManagerBase],
        extensions: list[SchemaExtension],
        classes: tuple[type[SchemaExtension], ...],
    ) -> None:
        hooks, strawberry = _stage_hooks(classes, manager.HOOK_NAME)
        self._hooks, self._extensions = hooks, extensions
        self._entered: list[Generator[None, None, None]] = []
        self._fallback = manager(extensions) if strawberry else None

    def __enter__(self) -> None:
        if self._fallback is not None:
            self._fallback.__enter__()
            return
        extensions = self._extensions
        for hook, at in self._hooks:
            gen = hook(extensions[at])
            if next(gen, _DONE) is _DONE:  # (a default, not StopIteration: no exception to catch)
                raise RuntimeError("generator didn't yield")
            self._entered.append(gen)

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
                if next(entered[index], _DONE) is _DONE:
                    continue
            except BaseException as error:
                if not _unwind(entered[:index], error):
                    raise
                return
            stuck = RuntimeError("generator didn't stop")
            if not _unwind(entered[:index], stuck):
                raise stuck
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


def _classes(extensions: list[SchemaExtension]) -> tuple[type[SchemaExtension], ...]:
    return tuple(map(type, extensions))


def _stage_hooks(classes: tuple[type[SchemaExtension], ...], name: str) -> StageHooks:
    """A stage's hooks for extensions of these classes: (factory, position) in order, and
    whether one of them is left to Strawberry; found once per list of classes."""
    key = (classes, name)
    found = _STAGES.get(key)
    if found is None:
        found_hooks = [(class_hook(cls, name), at) for at, cls in enumerate(classes)]
        hooks = tuple((hook, at) for hook, at in found_hooks if hook is not None)
        found = _STAGES[key] = (hooks, any(f is _STRAWBERRY for f, _ in hooks))
    return found


@functools.lru_cache(maxsize=64)
def _with_results(classes: tuple[type[SchemaExtension], ...]) -> tuple[int, ...]:
    """Positions of the extensions with results of their own (the rest give `{}`)."""
    plain = SchemaExtension.get_results
    return tuple(at for at, cls in enumerate(classes) if cls.get_results is not plain)


def _unwind(entered: list[Generator[None, None, None]], error: BaseException) -> bool:
    """Leave `entered` (innermost last) with `error` as an exit stack would; True if one of
    them suppressed it, and whatever a hook raises instead propagates."""
    stack = contextlib.ExitStack()
    for gen in entered:
        stack.push(_Started(gen))
    return bool(stack.__exit__(type(error), error, error.__traceback__))


class CachedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's extensions runner with each stage's hooks found from the cache."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._classes = _classes(self.extensions)

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for at in _with_results(self._classes):
            data.update(await await_maybe(self.extensions[at].get_results()))
        data.update(ctx.extensions_results)
        return data

    def operation(self) -> Any:
        return Stage(OperationContextManager, self.extensions, self._classes)

    def validation(self) -> Any:
        return Stage(ValidationContextManager, self.extensions, self._classes)

    def parsing(self) -> Any:
        return Stage(ParsingContextManager, self.extensions, self._classes)

    def executing(self) -> Any:
        return Stage(ExecutingContextManager, self.extensions, self._classes)
