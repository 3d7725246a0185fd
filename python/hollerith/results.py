"""Typed views of what the coordinator answers: a job's status and result, its events, its log
output, the workers. Built from the protocol's messages by the client; plain data, no calls."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from hollerith._proto import hollerith_pb2 as pb

__all__ = ["CardResult", "JobResult", "StackStatus", "JobStatus", "JobEvent", "LogChunk",
           "WorkerInfo", "FINISHED_STATES"]

#: The states in which a job has ended.
FINISHED_STATES = frozenset({"succeeded", "failed", "cancelled"})


@dataclass(frozen=True)
class CardResult:
    """One card's result, as in the result document (`hollerith submit --json`)."""

    name: str  #: STACK.CARD (or "combine")
    state: str  #: succeeded, failed, skipped, cancelled, pending...
    exit_code: int
    stdout: str  #: the first part of its standard output
    stdout_truncated: bool
    attempts: int
    node: str  #: the worker it ran on ("" if it never ran)
    duration_ms: int
    outputs: Dict[str, str]  #: declared output path -> sha256
    error: str = ""  #: why it failed without an exit code of its own, if it did
    cached_from: str = ""  #: the job whose run it reused from the result cache, if it did
    cache: str = ""  #: why it was not taken from the cache, if it could have been

    @property
    def ok(self) -> bool:
        """Whether the card succeeded."""
        return self.state == "succeeded"


@dataclass(frozen=True)
class JobResult:
    """The result of a finished job: its state and every card's result, in the spec's order."""

    job_id: str
    name: str
    state: str  #: succeeded, failed or cancelled
    reason: str  #: why it failed or was cancelled
    cards: Dict[str, CardResult]  #: by STACK.CARD, in the spec's order
    document: Dict[str, Any] = field(repr=False)  #: the result document as JSON

    @property
    def ok(self) -> bool:
        """Whether the job succeeded."""
        return self.state == "succeeded"

    def __getitem__(self, card: str) -> CardResult:
        return self.cards[card]


def _card(name: str, doc: Mapping[str, Any]) -> CardResult:
    return CardResult(name=name, state=str(doc.get("state", "")),
                      exit_code=int(doc.get("exit_code", 0)), stdout=str(doc.get("stdout", "")),
                      stdout_truncated=bool(doc.get("stdout_truncated", False)),
                      attempts=int(doc.get("attempts", 0)), node=str(doc.get("node", "")),
                      duration_ms=int(doc.get("duration_ms", 0)),
                      outputs={str(k): str(v) for k, v in dict(doc.get("outputs", {})).items()},
                      error=str(doc.get("error", "")), cached_from=str(doc.get("cached_from", "")),
                      cache=str(doc.get("cache", "")))


def job_result(status: pb.JobStatus) -> Optional[JobResult]:
    """The result in a JobStatus, or None while the job runs."""
    if not status.result_json:
        return None
    doc: Dict[str, Any] = json.loads(status.result_json)
    cards_doc: Dict[str, Any] = doc.get("cards", {})
    order = list(status.card_order) or list(cards_doc)
    cards = {name: _card(name, cards_doc[name]) for name in order if name in cards_doc}
    return JobResult(job_id=status.job_id, name=status.name, state=status.state,
                     reason=status.reason, cards=cards, document=doc)


@dataclass(frozen=True)
class StackStatus:
    """Where one stack is: cards done of total, its node and state, why it waits."""

    name: str
    done: int
    total: int
    node: str
    state: str  #: waiting, placing, running, done, failed, skipped
    waiting: str  #: why it is not placed yet, if it is not
    is_combine: bool

    @staticmethod
    def from_proto(s: pb.StackStatus) -> "StackStatus":
        return StackStatus(s.name, s.done, s.total, s.node, s.state, s.waiting, s.is_combine)


@dataclass(frozen=True)
class JobStatus:
    """A job as `hollerith status` shows it."""

    job_id: str
    name: str
    state: str  #: running, succeeded, failed, cancelled
    reason: str
    cards_done: int
    cards_total: int
    stacks: List[StackStatus]
    priority: int
    tenant: str
    cache: str
    submitted_wall_us: int
    result: Optional[JobResult]  #: set once the job has finished

    @property
    def finished(self) -> bool:
        """Whether the job has ended (succeeded, failed or cancelled)."""
        return self.state in FINISHED_STATES

    @staticmethod
    def from_proto(s: pb.JobStatus) -> "JobStatus":
        return JobStatus(job_id=s.job_id, name=s.name, state=s.state, reason=s.reason,
                         cards_done=s.cards_done, cards_total=s.cards_total,
                         stacks=[StackStatus.from_proto(x) for x in s.stacks],
                         priority=s.priority, tenant=s.tenant, cache=s.cache,
                         submitted_wall_us=s.submitted_wall_us, result=job_result(s))


@dataclass(frozen=True)
class JobEvent:
    """One event of the job's trace, as `hollerith watch` prints it."""

    lamport: int  #: its Lamport time
    kind: str  #: card_started, card_finished, card_cached, release, job_finished...
    stack: str  #: the stack's name
    card: str  #: STACK.CARD, for a card's events
    node: str
    attempt: int
    exit_code: int
    detail: str
    wall_us: int
    job_state: str  #: with job_finished: how the job ended
    stack_status: Optional[StackStatus]  #: the stack's progress, on its last event of a batch

    @staticmethod
    def from_proto(e: pb.JobEvent) -> "JobEvent":
        return JobEvent(lamport=e.lamport, kind=e.kind, stack=e.stack, card=e.card, node=e.node,
                        attempt=e.attempt, exit_code=e.exit_code, detail=e.detail,
                        wall_us=e.wall_us, job_state=e.job_state,
                        stack_status=StackStatus.from_proto(e.stack_status)
                        if e.HasField("stack_status") else None)


@dataclass(frozen=True)
class LogChunk:
    """A piece of a card's output; the last chunk of a card has `ended` set (and no data)."""

    card: str  #: STACK.CARD
    stream: str  #: stdout or stderr
    data: bytes
    ended: bool = False
    exit_code: int = 0  #: with `ended`: the card's exit code (-1: it did not exit)
    state: str = ""  #: with `ended`: succeeded, failed, skipped

    @property
    def text(self) -> str:
        """The data as text (undecodable bytes replaced)."""
        return self.data.decode("utf-8", errors="replace")

    @staticmethod
    def from_proto(c: pb.LogChunk) -> "LogChunk":
        return LogChunk(card=c.card, stream=c.stream, data=c.data, ended=c.card_ended,
                        exit_code=c.exit_code, state=c.state)


@dataclass(frozen=True)
class WorkerInfo:
    """A connected worker, as `hollerith workers` shows it."""

    name: str
    labels: Dict[str, str]
    slots: int
    stacks: int  #: stacks placed on it now
    running_cards: int
    version: str
    peer: str
    epoch: int

    @staticmethod
    def from_proto(w: pb.WorkerInfo) -> "WorkerInfo":
        return WorkerInfo(name=w.name, labels={kv.key: kv.value for kv in w.labels},
                          slots=w.slots, stacks=w.stacks, running_cards=w.running_cards,
                          version=w.version, peer=w.peer, epoch=w.epoch)
