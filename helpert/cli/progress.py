"""A rich progress display for corpus runs, fed by :func:`helpert.replay.batch.run_batch` events."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


class _Shown:
    """A rich ``Progress`` (``self.progress``) shown while the object is used as a context."""

    progress: Any

    def __enter__(self) -> Any:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)


class RunProgress(_Shown):
    """Sessions done/total, turns, tokens/s and ETA; one line per finished or failed session."""

    def __init__(self, console: "Console"):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=True,
        )
        self.sessions = self.turns = None
        self.tokens = 0
        self.t0 = time.perf_counter()

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        p = self.progress
        if kind == "planned":
            if event["skipped"]:
                self.console.print(f"resuming: {event['skipped']} of {event['total']} sessions already finished")
            self.sessions = p.add_task("sessions", total=event["total"] - event["skipped"], info="")
            self.turns = p.add_task("turns", total=event["turns"] or None, info="loading model…")
        elif kind == "loaded":
            p.update(self.turns, info="")
        elif kind == "turn":
            self.tokens += event["tokens"]
            rate = self.tokens / max(time.perf_counter() - self.t0, 1e-9)
            p.update(self.turns, advance=1, info=f"{rate:.0f} tok/s · {event['dialogue']} {event['slot'] + 1}/{event['total']}")
        elif kind == "done":
            p.update(self.sessions, advance=1)
            resumed = f", {event['resumed_turns']} resumed" if event["resumed_turns"] else ""
            retried = f", {event['retried']} retried" if event.get("retried") else ""
            bad = f", [bold red]{event['degenerate']} degenerate (flagged)[/]" if event.get("degenerate") else ""
            self.console.print(f"[green]✓[/] {event['dialogue']}: {event['turns']} counselor turns{resumed}{retried}{bad}, "
                               f"{event['tokens']} tokens in {event['seconds']:.1f} s")
        elif kind == "elsewhere":
            p.update(self.sessions, advance=1)
            self.console.print(f"[cyan]↷[/] {event['dialogue']}: finished by another process")
        elif kind == "waiting":
            if event["holders"] == getattr(self, "_waiting", None):
                return
            self._waiting = event["holders"]
            self.console.print(f"waiting for {event['sessions']} sessions held by {', '.join(event['holders'])}…")
        elif kind == "failed":
            if self.sessions is not None and event.get("stage") != "load":
                p.update(self.sessions, advance=1)
            self.console.print(f"[red]✗[/] {event.get('dialogue') or event.get('file')}: {event['stage']}: {event['reason']}")


class JudgeProgress(_Shown):
    """An LLM judge's calls, unreadable replies and calls per second while a corpus is judged: one transient line on
    stderr (nothing when stderr is not a terminal). Used as the judge itself: each call is passed on and counted;
    every other attribute is the judge's."""

    def __init__(self, judge: Any, console: "Console | None" = None):
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.judge = judge
        console = console or Console(stderr=True)
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                                 transient=True, disable=not console.is_terminal)
        self.task = self.progress.add_task("judge: 0 calls")
        self.t0 = time.perf_counter()

    def __call__(self, prompt: str, schema: dict) -> Any:
        reply = self.judge(prompt, schema)
        j = self.judge
        rate = j.calls / max(time.perf_counter() - self.t0, 1e-9)
        self.progress.update(self.task, description=f"judge: {j.calls} calls, {j.failures} unreadable, {rate:.1f}/s")
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self.judge, name)
