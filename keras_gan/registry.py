"""One registry mechanism for everything pluggable: models, losses, datasets, metrics."""

from __future__ import annotations

from typing import Any
from typing import Callable


class Registry:
    """Named, validated lookup of classes or factories.

    Args:
        kind: what the registry holds, used in error messages ("model").
        sort_names: list names alphabetically; False keeps the order of registration
            (metrics: the order of a report).

    Example:
    >>> MODELS = Registry("model")
    >>> @MODELS.register("dcgan")
    ... class DCGAN: ...
    >>> MODELS.get("dcgan") is DCGAN
    True
    """

    def __init__(self, kind: str, sort_names: bool = True):
        self.kind = kind
        self.sort_names = sort_names
        self._entries: dict[str, Any] = {}

    def register(self, name: str) -> Callable[[Any], Any]:
        def decorator(obj):
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> Any:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.kind} {name!r}; valid names: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._entries) if self.sort_names else list(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries


MODELS = Registry("model")
LOSSES = Registry("loss")
DATASETS = Registry("dataset")
METRICS = Registry("metric", sort_names=False)
