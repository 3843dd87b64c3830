"""One error family for the whole library, and the exit codes the CLI turns them into."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Named process exit codes; tests assert these, never bare numbers."""

    OK = 0
    ERROR = 1  # user mistake, bad content, failed validation, failed publish
    USAGE = 2  # click's own usage errors
    UNREADABLE = 3  # `validate` was given something it cannot judge at all
    REFUSED = 4  # publish refused to change a published episode (use --force)
    LOCKED = 5  # another publish holds the target's lock
    INTERRUPTED = 130


class PipelineError(Exception):
    """A problem the user can fix. Carries where it is (file, field) and how to fix it (hint)."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        field: str | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.field = field
        self.hint = hint

    def __str__(self) -> str:
        where = ": ".join(str(p) for p in (self.file, self.field) if p not in (None, ""))
        text = f"{where}: {self.message}" if where else self.message
        return text + (f" ({self.hint})" if self.hint else "")


class ContentError(PipelineError):
    """show.yaml or an episode folder is wrong."""


class ContentErrors(PipelineError):
    """Several content problems, all reported at once."""

    def __init__(self, problems: list[PipelineError]) -> None:
        files = {str(p.file) for p in problems if p.file is not None}
        n = len(problems)
        super().__init__(
            f"{n} problem{'s' if n != 1 else ''} in {len(files)} file{'s' if len(files) != 1 else ''}"
        )
        self.problems = problems


class AudioError(PipelineError):
    """An audio file cannot be read, encoded or tagged."""


class FeedError(PipelineError):
    """A feed cannot be built."""


class UnreadableFeed(PipelineError):
    """`validate` got input it cannot judge at all (not XML, HTML, empty, 404, refused, too big)."""

    exit_code = ExitCode.UNREADABLE


class StorageError(PipelineError):
    """The publish target cannot be reached, read or written."""


class PublishRefused(PipelineError):
    """A publish would break something listeners already have; `--force` overrides."""

    exit_code = ExitCode.REFUSED


class TargetLocked(PipelineError):
    """Another publish holds the target's lock."""

    exit_code = ExitCode.LOCKED
