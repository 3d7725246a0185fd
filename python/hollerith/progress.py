"""A live progress display of a job: a summary line and one line per stack group (a stack, or
the instances of a matrix, `build-debian-1`, `build-alpine-2`... as `build`), redrawn in place on a
terminal or in a notebook cell; nothing when the output is neither (a log file, a pipe, CI)."""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from typing import Any, Dict, List, Optional, TextIO

from hollerith.results import JobEvent, JobStatus, StackStatus

__all__ = ["Progress", "progress_wanted"]

_MAX_LINES = 20
_ENDED = ("done", "failed", "skipped")


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def progress_wanted(out: TextIO) -> bool:
    """Whether a display makes sense on `out`: a terminal, or a notebook's output."""
    return _in_notebook() or (hasattr(out, "isatty") and out.isatty())


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = width * done // total if total else width
    return "=" * filled + " " * (width - filled)


class Progress:
    """Follows a job from its status and its events and draws it at most ten times a second."""

    def __init__(self, status: JobStatus, out: Optional[TextIO] = None) -> None:
        self._out: TextIO = out if out is not None else sys.stderr
        self._job = status.name or status.job_id
        self._stacks: Dict[str, StackStatus] = OrderedDict((s.name, s) for s in status.stacks)
        self._cards_total = status.cards_total
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._lines = 0
        self._handle: Any = None  # the notebook's display handle

    def apply(self, event: JobEvent) -> None:
        """Takes one event (its stack's status, when it carries one) and redraws when due."""
        if event.stack_status is not None:
            self._stacks[event.stack_status.name] = event.stack_status
        self.draw(final=event.kind == "job_finished")

    def finish(self, status: JobStatus) -> None:
        """Draws the final state from the job's last status."""
        self._stacks = OrderedDict((s.name, s) for s in status.stacks)
        self._cards_total = status.cards_total
        self.draw(final=True)

    def lines(self) -> List[str]:
        """The lines a draw shows now."""
        elapsed = time.monotonic() - self._start
        done = sum(s.done for s in self._stacks.values())
        out = [f"{self._job}  {done}/{self._cards_total} cards  {elapsed:.1f}s"]
        groups: Dict[str, List[StackStatus]] = OrderedDict()
        for s in self._stacks.values():
            group = s.name if s.is_combine else s.name.split("-", 1)[0]
            groups.setdefault(group, []).append(s)
        for name, members in groups.items():
            if len(out) > _MAX_LINES:
                out.append(f"  ... {len(groups) - _MAX_LINES} more groups")
                break
            out.append("  " + (self._stack_line(members[0]) if len(members) == 1
                               else self._group_line(name, members)))
        return out

    @staticmethod
    def _stack_line(s: StackStatus) -> str:
        where = f"on {s.node}" if s.node else s.waiting
        return f"{s.name:<16} [{_bar(s.done, s.total)}] {s.done}/{s.total} {s.state:<8} {where}"

    @staticmethod
    def _group_line(name: str, members: List[StackStatus]) -> str:
        ended = sum(1 for s in members if s.state in _ENDED)
        running = sum(1 for s in members if s.state == "running")
        failed = sum(1 for s in members if s.state == "failed")
        return (f"{name + '-*':<16} [{_bar(ended, len(members))}] {ended}/{len(members)} stacks"
                f"  {running} running  {failed} failed")

    def draw(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        text = "\n".join(self.lines())
        if _in_notebook():
            self._draw_notebook(text)
            return
        erase = "\033[1A\033[2K" * self._lines
        self._out.write(erase + text + "\n")
        self._out.flush()
        self._lines = text.count("\n") + 1

    def _draw_notebook(self, text: str) -> None:
        from IPython.display import Pretty, display  # type: ignore[import]  # only in notebooks

        if self._handle is None:
            self._handle = display(Pretty(text), display_id=True)
        else:
            self._handle.update(Pretty(text))
