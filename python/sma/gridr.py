"""gridr's module-level helpers (gridr.scaling.shmutils), over libsma."""
from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any, Callable, List, Optional, Type

from .array import SharedMemoryArray

__all__ = ["create_and_register_sma", "shmarray_wrap", "deprecated"]


def create_and_register_sma(shape: Any, dtype: Any, register: List[str],
                            prefix: Optional[str] = None) -> SharedMemoryArray:
    """Builds a name with `prefix`, creates a SharedMemoryArray of that
    shape and dtype under it, and appends the name to `register` (only once
    the segment exists: a failed create registers nothing)."""
    buffer_name = SharedMemoryArray.build_sma_name(prefix)
    buffer = SharedMemoryArray(shape=shape, dtype=dtype, name=buffer_name)
    buffer.create()
    register.append(buffer_name)
    return buffer


def shmarray_wrap(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: loads every SharedMemoryArray argument (positional or
    keyword), calls func with their arrays instead, and closes them all
    whatever func does. If a load fails, those already loaded are closed
    before the error propagates (gridr's own version leaves them open)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        loaded: List[SharedMemoryArray] = []

        def resolve(arg: Any) -> Any:
            if not isinstance(arg, SharedMemoryArray):
                return arg
            arg.load()
            loaded.append(arg)
            return arg.array

        try:
            res_args = [resolve(a) for a in args]
            res_kwargs = {k: resolve(v) for k, v in kwargs.items()}
            return func(*res_args, **res_kwargs)
        finally:
            for sma in loaded:
                sma.close()

    return wrapper


def deprecated(message: str, *, category: Optional[Type[Warning]] = DeprecationWarning,
               stacklevel: int = 1) -> Callable[[Any], Any]:
    """Marks a function or class as deprecated, as warnings.deprecated()
    (PEP 702, Python 3.13) does: each call (or instantiation) warns with
    `message` in `category` (None: no warning), and `__deprecated__`
    holds the message."""
    if not isinstance(message, str):
        raise TypeError("Expected an object of type str for 'message', not %r"
                        % type(message).__name__)

    def warn() -> None:
        if category is not None:
            warnings.warn(message, category=category, stacklevel=stacklevel + 2)

    def decorator(arg: Any) -> Any:
        if isinstance(arg, type):
            original_init = arg.__init__

            @functools.wraps(original_init)
            def new_init(self: Any, *a: Any, **kw: Any) -> None:
                warn()
                original_init(self, *a, **kw)

            arg.__init__ = new_init
            arg.__deprecated__ = message
            return arg
        if not callable(arg):
            raise TypeError("@deprecated can only be applied to a class or a callable, "
                            "not %r" % type(arg).__name__)
        if inspect.iscoroutinefunction(arg):
            @functools.wraps(arg)
            async def async_wrapper(*a: Any, **kw: Any) -> Any:
                warn()
                return await arg(*a, **kw)
            async_wrapper.__deprecated__ = message  # type: ignore[attr-defined]
            return async_wrapper

        @functools.wraps(arg)
        def wrapper(*a: Any, **kw: Any) -> Any:
            warn()
            return arg(*a, **kw)
        wrapper.__deprecated__ = message  # type: ignore[attr-defined]
        return wrapper

    return decorator
