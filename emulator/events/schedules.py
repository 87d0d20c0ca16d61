"""Schedules firing: EventBridge rules for Lambda functions, Cloud Scheduler jobs for Cloud Functions.

Owns the timers and nothing about calendars: when a schedule fires next is
``schedule_times``' (sans-io), what it sends is ``samples``'. Timers are handles on
the event loop (``loop.call_later``): no threads, each cancellable. ``follow(project)``,
called after every config reload, keeps the timer of every schedule that did not
change and arms or cancels the rest.

What a fire delivers:

- AWS: an asynchronous invocation (so the async invoker's retries apply) of the
  EventBridge "Scheduled Event", or of the target's ``input`` instead when set.
- GCP: one POST to the HTTP function, as a Cloud Scheduler job with an HTTP target
  makes it. A job's default retry count is 0: a failure is logged, not retried.

A function's schedules are named ``{function}-schedule``, then ``-schedule-2``… (the
rule or job name the event and headers carry). ``fire(function)`` fires them now, for
the admin surface, without moving their timers.

The clock: ``settings.schedule_speedup`` makes schedule time run that many times faster
than the wall clock, from the moment emu started, so ``rate(1 minute)`` at 60 fires every
second. Events then carry that clock's time, which runs ahead of the wall clock.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Union

from emulator.config.model import FunctionSpec, Project, ScheduleTrigger, TriggerSpec
from emulator.events import samples
from emulator.events.schedule_times import next_eventbridge, next_unix_cron
from emulator.execution.gcp_invoke import DiscardingSink
from emulator.execution.invocation import Invocation

if TYPE_CHECKING:
    from emulator.execution.registry import Registry

Timetable = Union[ScheduleTrigger, TriggerSpec]


@dataclass(frozen=True, slots=True)
class Schedule:
    """One schedule of one function: its rule (or job) name and its timetable."""

    function: str
    name: str
    timetable: Timetable

    @property
    def expression(self) -> str:
        if isinstance(self.timetable, ScheduleTrigger):
            return self.timetable.expression
        return f"{self.timetable.schedule} in {self.timetable.time_zone}"

    def next_after(self, anchor: datetime, after: datetime) -> datetime | None:
        """When it fires next after ``after``; a rate counts from ``anchor``. ``None``: never again."""
        if isinstance(self.timetable, ScheduleTrigger):
            return next_eventbridge(self.timetable, anchor, after)
        assert self.timetable.schedule is not None
        return next_unix_cron(self.timetable.schedule, self.timetable.time_zone, after)


def schedules_of(spec: FunctionSpec) -> list[Schedule]:
    """The schedules a function's config declares, named in order."""
    timetables: list[Timetable] = [t for t in spec.events if isinstance(t, ScheduleTrigger)]
    if spec.trigger is not None and spec.trigger.kind == "schedule":
        timetables.append(spec.trigger)
    return [
        Schedule(spec.name, f"{spec.name}-schedule" + (f"-{index + 1}" if index else ""), timetable)
        for index, timetable in enumerate(timetables)
    ]


@dataclass(slots=True)
class ScheduleClock:
    """Schedule time: the wall clock, run ``speedup`` times faster from the moment it was set."""

    speedup: float = 1.0
    _origin: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    _origin_mono: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=(time.monotonic() - self._origin_mono) * self.speedup)

    def real_seconds_until(self, moment: datetime) -> float:
        return max(0.0, (moment - self.now()).total_seconds() / self.speedup)

    def set_speedup(self, speedup: float) -> None:
        """Change pace from now on; schedule time runs on without a jump."""
        self._origin, self._origin_mono, self.speedup = self.now(), time.monotonic(), speedup


@dataclass(slots=True)
class _Armed:
    schedule: Schedule
    anchor: datetime
    due: datetime | None = None
    handle: asyncio.TimerHandle | None = None
    fired: int = 0


class Scheduler:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._console = registry.console
        self.clock = ScheduleClock(registry.project.settings.schedule_speedup)
        self._armed: dict[tuple[str, str], _Armed] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        registry.on_apply.append(self.follow)

    # -- timers -----------------------------------------------------------------

    def start(self) -> None:
        self.follow(self._registry.project)
        if self._armed:
            pace = f", clock {self.clock.speedup:g}x" if self.clock.speedup != 1 else ""
            names = ", ".join(f"{a.schedule.name} ({a.schedule.expression})" for a in self._armed.values())
            self._registry.console.info(f"emu: schedules {names}{pace}; fire one now: POST /_emu/schedules/FUNCTION/fire")

    def follow(self, project: Project) -> None:
        """Arm the schedules of ``project``; unchanged ones keep their timers (and a rate its phase)."""
        if project.settings.schedule_speedup != self.clock.speedup:
            self.clock.set_speedup(project.settings.schedule_speedup)
            for armed in self._armed.values():
                self._arm(armed)
        wanted = {(s.function, s.name): s for spec in project.functions.values() for s in schedules_of(spec)}
        for key in [key for key, armed in self._armed.items() if wanted.get(key) != armed.schedule]:
            self._cancel(self._armed.pop(key))
        for key, schedule in wanted.items():
            if key not in self._armed:
                armed = self._armed[key] = _Armed(schedule, anchor=self.clock.now())
                armed.due = schedule.next_after(armed.anchor, armed.anchor)
                self._arm(armed)

    def _arm(self, armed: _Armed) -> None:
        self._cancel(armed)
        if armed.due is not None:
            loop = asyncio.get_running_loop()
            armed.handle = loop.call_later(self.clock.real_seconds_until(armed.due), self._tick, armed)

    @staticmethod
    def _cancel(armed: _Armed) -> None:
        if armed.handle is not None:
            armed.handle.cancel()
            armed.handle = None

    def _tick(self, armed: _Armed) -> None:
        armed.handle = None
        due = armed.due
        assert due is not None
        schedule = armed.schedule
        self._console.info(f"schedule {schedule.name} ({schedule.expression}): firing {schedule.function}")
        try:
            self._deliver(schedule, due)
        except Exception as exc:  # one bad delivery must not stop the timer chain
            self._console.error(schedule.function, f"schedule {schedule.name} could not fire: {exc!r}")
        armed.fired += 1
        # A loop that fell behind (a suspended laptop) skips the fires it missed, as EventBridge does.
        armed.due = schedule.next_after(armed.anchor, max(due, self.clock.now()))
        self._arm(armed)

    # -- firing -----------------------------------------------------------------

    def fire(self, function: str) -> list[str]:
        """Fire every schedule of ``function`` now; the names fired, none if it has no schedule."""
        now = self.clock.now()
        fired = []
        for armed in self._armed.values():
            if armed.schedule.function == function:
                self._console.info(f"schedule {armed.schedule.name}: firing {function} (on request)")
                self._deliver(armed.schedule, now)
                armed.fired += 1
                fired.append(armed.schedule.name)
        return fired

    def deliver_event(self, function: str, event: Any) -> bool:
        """Hand a ready-made scheduled event to ``function`` (an AWS one) as a rule would."""
        pool = self._registry.lambda_pool(function)
        if pool is None:
            return False
        payload = json.dumps(event).encode()
        self._registry.async_invoker.submit(pool, Invocation(function, payload, self._registry.arn(function), trigger="schedule"))
        return True

    def deliver_sample(self, event: Any) -> list[str]:
        """``POST /_emu/events/aws/schedule``: a scheduled event to the functions of the rule in its ``resources``."""
        if not isinstance(event, dict) or not isinstance(event.get("resources"), list):
            raise ValueError("expected an EventBridge event with resources: [the rule's ARN]")
        rule = str(event["resources"][0]).rpartition("/")[2] if event["resources"] else ""
        return [function for function in self.functions_for_rule(rule) if self.deliver_event(function, event)]

    def functions_for_rule(self, rule: str) -> list[str]:
        """The AWS functions a rule's event goes to: the rule's own, or every scheduled one for a rule emu does not know."""
        aws = [a.schedule for a in self._armed.values() if isinstance(a.schedule.timetable, ScheduleTrigger)]
        own = [s.function for s in aws if s.name == rule]
        return own or list(dict.fromkeys(s.function for s in aws))

    def _deliver(self, schedule: Schedule, moment: datetime) -> None:
        timetable = schedule.timetable
        if isinstance(timetable, ScheduleTrigger):
            origin = samples.Origin.from_settings(self._registry.project.settings)
            event: Any = json.loads(timetable.input) if timetable.input is not None else samples.schedule_event(origin, schedule.name, moment)
            if not self.deliver_event(schedule.function, event):
                self._console.error(schedule.function, f"schedule {schedule.name}: the function is gone")
            return
        task = asyncio.ensure_future(self._call(schedule, timetable, moment))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _call(self, schedule: Schedule, timetable: TriggerSpec, moment: datetime) -> None:
        pool = self._registry.gcp_pool(schedule.function)
        if pool is None:
            self._console.error(schedule.function, f"Cloud Scheduler job {schedule.name}: the function is gone")
            return
        body = (timetable.body or "").encode()
        sink = DiscardingSink()
        await self._registry.gcp_invoker.request(
            pool, "POST", "/", samples.cloud_scheduler_request(schedule.name, moment, body), body, sink, trigger="schedule"
        )
        if not 200 <= sink.status < 300:
            self._console.error(
                schedule.function,
                f"Cloud Scheduler job {schedule.name}: attempt failed with HTTP {sink.status}; not retried (retry count 0)",
            )

    # -- state ------------------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """Every armed schedule as the admin surface shows it."""
        return [
            {
                "function": a.schedule.function,
                "name": a.schedule.name,
                "provider": "aws" if isinstance(a.schedule.timetable, ScheduleTrigger) else "gcp",
                "expression": a.schedule.expression,
                "next": None if a.due is None else samples.iso_s(a.due),
                "fired": a.fired,
            }
            for a in self._armed.values()
        ]

    async def aclose(self) -> None:
        for armed in self._armed.values():
            self._cancel(armed)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
