"""tabgen's exceptions. Library code raises these; only cli.py turns them into messages and exit codes."""

from __future__ import annotations


class TabgenError(Exception):
    """Base of every error tabgen raises on purpose. The message is one line a user can act on."""


class TabValueError(TabgenError, ValueError):
    """A value outside what the tab model allows (a fret of 30, a tuning of 3 strings)."""


class InputError(TabgenError):
    """A missing, unreadable, binary or empty input file or folder."""


class CheckpointError(TabgenError):
    """A file that is not a tabgen checkpoint, or one of an incompatible format version."""


class TrainingError(TabgenError):
    """Training cannot go on (NaN loss, exploding loss, no data)."""


class RenderError(TabgenError):
    """A tab that cannot be written to the asked format, or a missing renderer dependency."""
