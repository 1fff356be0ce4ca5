"""Which spooled instances run now: a plain object the processor asks, with no threads or I/O.

Instances run side by side up to `capacity`; a second copy of an instance that is running
waits until the first is finished. After a worker process dies, every instance that was
running is a suspect: suspects are retried one at a time ("alone"), and one that kills a
worker while alone is the culprit (the processor moves it to failed/).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Hashable

from .spool import key_of


@dataclass(frozen=True)
class Job:
    path: Path
    key: str

    @classmethod
    def of(cls, path: Path) -> "Job":
        return cls(path, key_of(path))


class Scheduler:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self._running: dict[Hashable, Job] = {}      # a running task (e.g. its Future) -> its job
        self._keys: set[str] = set()
        self._suspects: list[Path] = []
        self._alone: str | None = None

    # -- what runs -----------------------------------------------------------------------
    def running(self) -> list[Hashable]:
        return list(self._running)

    def count(self) -> int:
        return len(self._running)

    def has_room(self) -> bool:
        return len(self._running) < self.capacity

    def is_running(self, key: str) -> bool:
        return key in self._keys

    def started(self, task: Hashable, job: Job) -> None:
        self._running[task] = job
        self._keys.add(job.key)

    def take(self, task: Hashable) -> Job:
        """A finished task's job, no longer running."""
        job = self._running.pop(task)
        self._keys.discard(job.key)
        return job

    def release(self, job: Job) -> None:
        """Its outcome is known: a job that ran alone ends the isolation of that suspect."""
        if self._alone == job.key:
            self._alone = None

    # -- after a worker died -------------------------------------------------------------
    @property
    def isolating(self) -> bool:
        """Suspects are waiting, or one runs alone: nothing else may start."""
        return bool(self._suspects) or self._alone is not None

    @property
    def has_suspects(self) -> bool:
        return bool(self._suspects)

    def crashed(self, job: Job) -> bool:
        """A worker died while `job` ran: True when it ran alone (the culprit), else it becomes
        a suspect."""
        if self._alone == job.key:
            return True
        self._suspects.append(job.path)
        return False

    def suspect_all(self) -> None:
        """The pool is restarted: whatever was running becomes a suspect."""
        for job in self._running.values():
            self._suspects.append(job.path)
        self._running.clear()
        self._keys.clear()

    def next_alone(self) -> Job | None:
        """The next suspect to run alone, once nothing runs."""
        if self._running or not self._suspects:
            return None
        job = Job.of(self._suspects.pop(0))
        self._alone = job.key
        return job

    def settle(self) -> None:
        """The suspect chosen to run alone was not started after all (gone, or already done)."""
        if not self._running:
            self._alone = None
