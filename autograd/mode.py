"""The per-thread switches: is the graph recorded, and is ``detect_anomaly`` checking values.

Both are thread-local: ``no_grad()`` in one thread does not stop another thread recording.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


class _Mode(threading.local):
    """This thread's switches (class attributes are the defaults every new thread starts with)."""

    # ops record the graph; the int is function._GUARDED (truthy: records, see function.py)
    enabled: bool | int = True
    anomaly: bool = False  # detect_anomaly() is on
    in_backward: bool = False  # the engine is running backward formulas
    tracer: Any = None  # autograd.compile's recorder while it traces a function
    watching: bool = False  # anomaly or tracer: the one flag ops check on their fast path

    def refresh(self) -> None:
        self.watching = self.anomaly or self.tracer is not None


mode = _Mode()


def is_grad_enabled() -> bool:
    """True when ops record the graph in this thread."""
    return bool(mode.enabled)


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` in this thread."""
    return mode.anomaly


class _Switch:
    """Context manager and decorator: set one of this thread's switches for a block, then
    restore it. Subclasses name the switch and the value."""

    switch: str
    value: bool

    def __init__(self) -> None:
        self._previous: list[bool | int] = []

    def __enter__(self) -> None:
        self._previous.append(getattr(mode, self.switch))
        setattr(mode, self.switch, self.value)
        mode.refresh()

    def __exit__(self, *exc_info: object) -> None:
        setattr(mode, self.switch, self._previous.pop())
        mode.refresh()

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_grad_enabled:
    """Turn recording on or off in this thread, as PyTorch's: at once as a call
    (``set_grad_enabled(False)``), or for a block that then restores the setting from before
    the call (``with set_grad_enabled(False): ...``); also a decorator.

    ``set_grad_enabled(before)``, where ``before = set_grad_enabled(False)``, restores what
    was before that call (the older spelling here, when the call returned the previous setting).
    """

    value: bool | int
    before: bool | int

    def __init__(self, enabled: bool | int | set_grad_enabled) -> None:
        if isinstance(enabled, set_grad_enabled):
            value = enabled.before  # may be function._GUARDED, inside a backward
        elif isinstance(enabled, (bool, int, np.bool_)):
            value = bool(enabled)
        else:
            raise TypeError(f"set_grad_enabled: give True or False, got {enabled!r}")
        self.value = value
        self.before = mode.enabled
        mode.enabled = value  # a plain call takes effect at once, as in PyTorch

    def __enter__(self) -> None:
        mode.enabled = self.value  # (already so on the first use; a reused object sets it again)

    def __exit__(self, *exc_info: object) -> None:
        mode.enabled = self.before

    def __call__(self, func: F) -> F:
        mode.enabled = self.before  # as a decorator: undo the call's setting now...
        value = self.value

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(value):  # ...and set it only while func runs
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_Switch):
    """Ops inside record no graph: ``with no_grad(): ...`` or ``@no_grad()`` (thread-local)."""

    switch, value = "enabled", False


class enable_grad(_Switch):
    """Turn recording back on inside a ``no_grad`` block (thread-local)."""

    switch, value = "enabled", True


class detect_anomaly(_Switch):
    """Inside this block, the first op whose forward or backward makes a NaN or Inf raises.

    The error names the op and shows where in your code it was created. Checking every
    value costs time: use it to find a problem, not in normal training. Thread-local; also
    a decorator (``@detect_anomaly()``).
    """

    switch, value = "anomaly", True
