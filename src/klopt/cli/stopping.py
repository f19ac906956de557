"""How a klopt command stops: Ctrl+C raises :class:`Stop` where the command is, and the
command says "interrupted" (exit 130); the long-running ones (`klopt worker`, `klopt sync
--watch`) also stop so on a service manager's SIGTERM, give their leases back and say
"Stopped.".

:class:`Stop` is a ``KeyboardInterrupt`` (every ``except KeyboardInterrupt`` catches it), but
not *the* ``KeyboardInterrupt``: CPython 3.11 remembers a ``KeyboardInterrupt`` that leaves
code run from a string (``exec(text)``, which ``dataclasses`` and ``namedtuple`` use when a
module is first imported) as unhandled, even when the command catches it later, and then ends
the process by SIGINT instead of with the command's exit code. A Ctrl+C that landed while a
job imported its module made a cleanly stopped worker look killed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

__all__ = ["Stop", "stop_on_signals"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop(KeyboardInterrupt):
    """Ctrl+C or SIGTERM: stop where you are."""


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


@contextmanager
def stop_on_signals(signals: Sequence[int] = SIGNALS) -> Iterator[None]:
    """Within the block, ``signals`` (Ctrl+C and SIGTERM) raise :class:`Stop`; afterwards
    the handlers that were there come back. (Outside the main thread, where Python has no signal
    handlers, the block runs as it is.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _stop) for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
