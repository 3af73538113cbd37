"""The exceptions and warnings cellcast raises.

Every error carries the message the ``cellcast`` command prints (the file, row and column, and how
to fix it). Each class also subclasses the built-in exception of its kind, so ``except ValueError``
catches refused input and ``except OSError`` a file that cannot be read.
"""


class CellcastError(Exception):
    """Any error of a cellcast workflow."""


class InputError(CellcastError, ValueError):
    """The options or the input data were refused (a bad value, a missing column, a malformed
    file): the message says what to fix."""


class CellcastIOError(CellcastError, OSError):
    """The operating system refused a read or a write (missing file, permissions, full disk)."""


class ComputeError(CellcastError, RuntimeError):
    """A computation cannot give a right number on this input (e.g. a singular fit)."""


class CellcastWarning(UserWarning):
    """Something that may make a result differ from what you expect (masked truth cells, an
    unreadable molecule, a target without a score)."""
