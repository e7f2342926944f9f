"""The ``lexo`` executable: the command line, started with the cyclic garbage collector paused.

See :mod:`lexo.startup` for why. This module imports the command line, never the other way
round; it loads nothing heavy itself, so that the pause starts before the heavy imports do.
"""

from __future__ import annotations

from lexo.startup import pause, started


def main() -> None:
    """Entry point of the ``lexo`` script (see :func:`lexo.cli.main`)."""
    pause()
    try:
        from lexo.cli import main as run
    except BaseException:
        started()
        raise
    run()
