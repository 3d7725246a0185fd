"""The blocking client: `Client` talks to a coordinator, `JobHandle` is one job on it.

    import hollerith
    client = hollerith.Client()              # HOLLERITH_COORDINATOR, HOLLERITH_TOKEN_FILE...
    job = client.submit("examples/report.yaml")
    result = job.wait()
    print(result["combine"].stdout)
"""

from __future__ import annotations

import os
import time
from typing import Any, Iterator, List, Optional, TextIO

import grpc

from hollerith._base import (CALL_TIMEOUT, STREAM_TIMEOUT, SUBMIT_TIMEOUT, ClientBase, JobBase,
                             status_of)
from hollerith._wire import WatchCursor
from hollerith.errors import from_rpc_error
from hollerith.results import JobEvent, JobResult, JobStatus, LogChunk, WorkerInfo
from hollerith.spec import SpecLike

__all__ = ["Client", "JobHandle"]


class Client(ClientBase[grpc.Channel]):
    """A connection to one coordinator. Every argument left out comes from the environment the
    CLI reads (HOLLERITH_COORDINATOR, HOLLERITH_TOKEN_FILE, HOLLERITH_TLS_CA, HOLLERITH_TLS_CERT,
    HOLLERITH_TLS_KEY), else the CLI's default (127.0.0.1:7070). With TLS files the client
    certificate is the credential; otherwise a bearer token (`token=` or a token file).
    `reconnect_for`: seconds `events()` and `wait()` keep reconnecting to a coordinator that went
    away (a restart, a network outage) before they raise Unavailable."""

    def __init__(self, address: Optional[str] = None, *, token: Optional[str] = None,
                 token_file: Optional[str] = None, tls_ca: Optional[str] = None,
                 tls_cert: Optional[str] = None, tls_key: Optional[str] = None,
                 reconnect_for: float = 60.0) -> None:
        super().__init__(address, token, token_file, tls_ca, tls_cert, tls_key, reconnect_for,
                         grpc)

    def close(self) -> None:
        """Closes the connection; calls and iterations in progress fail."""
        for channel in self._coordinators.channels():
            channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, request: Any, timeout: float = CALL_TIMEOUT,
              job: Optional[str] = None, spec: bool = False, repeatable: bool = True) -> Any:
        give_up_at, pause = self._failover_deadline(), 0.1
        while True:
            stub, address = self._stub()
            try:
                reply = getattr(stub, method)(request, timeout=timeout,
                                              metadata=self.settings.metadata())
                break
            except grpc.RpcError as e:
                wait = self._retry_after(address, e, repeatable, give_up_at, pause)
                if wait is None:
                    raise from_rpc_error(e, address, job, spec=spec) from None
                time.sleep(wait)
                pause = min(pause * 2, 1.0)
        self.clock.receive(reply.lamport)
        return reply

    def submit(self, spec: SpecLike, key: Optional[str] = None, *,
               cache: Optional[str] = None) -> "JobHandle":
        """Submits a job: `spec` is a path to a YAML or JSON file, the text of one, a dict of its
        keys or a built `hollerith.Job`. `key` makes the submission idempotent: the same key again
        returns the job it made (`JobHandle.existing`). `cache`: "on" (default), "refresh" (run
        every card, keep fresh results) or "read-only". Raises SpecError with every problem and its
        position when the coordinator refuses the spec."""
        reply = self._call("SubmitJob", self._submit_request(spec, key, cache), SUBMIT_TIMEOUT,
                           spec=True, repeatable=bool(key))
        return JobHandle(self, reply.job_id, name=reply.name, existing=reply.existing,
                         warnings=list(reply.warnings), tenant=reply.tenant)

    def job(self, job: str) -> "JobHandle":
        """A handle of a job submitted earlier, by id or by a name unique among kept jobs."""
        status = JobHandle(self, job).status()
        return JobHandle(self, status.job_id, name=status.name, tenant=status.tenant)

    def jobs(self) -> List[JobStatus]:
        """The jobs the coordinator keeps that this credential may see, without their stacks."""
        return self._jobs(self._call("ListJobs", self._jobs_request()))

    def workers(self) -> List[WorkerInfo]:
        """The workers connected now."""
        return self._workers(self._call("ListWorkers", self._workers_request()))


class JobHandle(JobBase):
    """A job on the coordinator: ask for its status, follow its events and logs, wait for its
    result, cancel it, save its trace."""

    def __init__(self, client: Client, job_id: str, *, name: str = "", existing: bool = False,
                 warnings: Optional[List[str]] = None, tenant: str = "") -> None:
        super().__init__(job_id, name, existing, warnings, tenant)
        self.client = client

    def status(self) -> JobStatus:
        """Where the job is now (with its result once it has finished)."""
        return status_of(self.client._call("GetJob", self.client._job_ref(self.id), job=self.id))

    def events(self, *, timeout: Optional[float] = None) -> Iterator[JobEvent]:
        """The job's events from its first, as they happen, until job_finished. A stream broken
        by a coordinator restart or a network outage is reopened and goes on after the last event
        delivered. `timeout`: seconds, then TimeoutError."""
        c = self.client
        deadline = None if timeout is None else time.monotonic() + timeout
        cursor = WatchCursor(self.id, c.address, c.reconnect_for, deadline)
        while not cursor.finished:
            stub, address = c._stub()
            try:
                stream = stub.WatchJob(cursor.request(c.clock), timeout=cursor.timeout(),
                                       metadata=c.settings.metadata())
                try:
                    for batch in stream:
                        yield from cursor.take(batch, c.clock)
                        if cursor.finished:
                            break
                finally:
                    stream.cancel()
                return
            except grpc.RpcError as e:
                if not c._coordinators.follow(address, e):  # to the leader a standby named: now
                    time.sleep(cursor.retry_after(e))

    def wait(self, timeout: Optional[float] = None, *, progress: Optional[bool] = None,
             check: bool = False, out: Optional[TextIO] = None) -> JobResult:
        """Waits until the job ends and returns its result (every card's state, exit code, stdout
        and outputs). `timeout`: seconds, then TimeoutError. `progress`: draw a live display on
        `out` (default: stderr); by default only when that is a terminal or a notebook. `check`:
        raise JobFailed when the job did not succeed."""
        status = self.status()
        display = self._display(status, progress, out)
        if status.finished:  # nothing to follow: its history need not be replayed
            return self._result(status, check, display)
        for event in self.events(timeout=timeout):
            if display is not None:
                display.apply(event)
        return self._result(self.status(), check, display)

    def logs(self, card: str = "", *, follow: bool = False) -> Iterator[LogChunk]:
        """The output of card STACK.CARD as it is kept (`follow`: as it is written, until the card
        ends). Without `card`: every card's output, followed until the job ends."""
        c = self.client
        request, timeout = c._log_request(self.id, card, follow)
        try:
            for chunk in c._stub()[0].ReadLog(request, timeout=timeout,
                                              metadata=c.settings.metadata()):
                c.clock.receive(chunk.lamport)
                yield LogChunk.from_proto(chunk)
        except grpc.RpcError as e:
            raise from_rpc_error(e, c.address, self.id) from None

    def cancel(self) -> str:
        """Cancels the job (its running cards are stopped); returns its state after that."""
        return str(self.client._call("CancelJob", self.client._job_ref(self.id), job=self.id).state)

    def trace(self, path: "str | os.PathLike[str]") -> str:
        """Saves the job's trace (Chrome Trace Event JSON; `hollerith verify` checks it) to
        `path`; returns the path."""
        c = self.client
        try:
            with open(path, "wb") as f:
                for chunk in c._stub()[0].GetTrace(c._job_ref(self.id), timeout=STREAM_TIMEOUT,
                                                   metadata=c.settings.metadata()):
                    c.clock.receive(chunk.lamport)
                    f.write(chunk.data)
        except grpc.RpcError as e:
            raise from_rpc_error(e, c.address, self.id) from None
        return os.fspath(path)
