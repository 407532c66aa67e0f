"""``Generic`` and ``TypeVar`` without importing ``typing`` at run time.

``typing`` costs the ``capturemock`` command ~13 M instructions (~3.5 ms) and its ``NamedTuple`` and
``Generic`` more; a type checker still sees the real ones. At run time a subscripted class
(``Exchange[bytes, str]`` as a base) is the class itself and a type variable is its name.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Generic, TypeVar
else:

    class Generic:
        """A base whose subscription is the class itself: ``Exchange[bytes, str]`` is ``Exchange``."""

        __slots__ = ()

        def __class_getitem__(cls, _params):
            return cls

    def TypeVar(name: str, *_constraints: object, **_options: object) -> str:  # noqa: N802 (typing's name)
        return name

__all__ = ["Generic", "TypeVar"]
