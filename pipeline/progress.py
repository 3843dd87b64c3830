"""How the library reports progress: a `Reporter` protocol with a silent default."""

from __future__ import annotations

from typing import Protocol


class Task(Protocol):
    """One unit of work with a known total (bytes, seconds of audio, files)."""

    def advance(self, amount: float) -> None: ...
    def update(self, done: float) -> None: ...
    def close(self) -> None: ...


class Reporter(Protocol):
    """Receives progress from the library. The CLI draws it; tests collect it; the default drops it."""

    def step(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def task(self, label: str, total: float, unit: str = "B") -> Task: ...


class NullTask:
    def advance(self, amount: float) -> None:
        pass

    def update(self, done: float) -> None:
        pass

    def close(self) -> None:
        pass


class NullReporter:
    """Reports nothing. The default everywhere, so library calls are silent unless asked."""

    def step(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def task(self, label: str, total: float, unit: str = "B") -> Task:
        return NullTask()


class ListReporter:
    """Collects messages; for tests and for callers that print a summary themselves."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.warnings: list[str] = []
        self.tasks: list[tuple[str, float, str]] = []

    def step(self, message: str) -> None:
        self.steps.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def task(self, label: str, total: float, unit: str = "B") -> Task:
        self.tasks.append((label, total, unit))
        return NullTask()
