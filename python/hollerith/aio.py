"""The asyncio client, on grpc.aio: the same names as `hollerith.Client` and `JobHandle`, with
`await` on every call and `async for` over `events()` and `logs()`.

    from hollerith import aio
    async with aio.Client() as client:
        job = await client.submit("examples/report.yaml")
        async for event in job.events():
            print(event.kind, event.stack, event.card)
        result = await job.wait()
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, AsyncIterator, List, Optional, TextIO

import grpc
import grpc.aio

from hollerith._base import (CALL_TIMEOUT, STREAM_TIMEOUT, SUBMIT_TIMEOUT, ClientBase, JobBase,
                             status_of)
from hollerith._wire import WatchCursor
from hollerith.errors import from_rpc_error
from hollerith.results import JobEvent, JobResult, JobStatus, LogChunk, WorkerInfo
from hollerith.spec import SpecLike

__all__ = ["Client", "JobHandle"]


class Client(ClientBase[grpc.aio.Channel]):
    """A connection to one coordinator, for asyncio: made like `hollerith.Client` (the same
    arguments and environment). Close it with `await client.close()` or `async with`."""

    def __init__(self, address: Optional[str] = None, *, token: Optional[str] = None,
                 token_file: Optional[str] = None, tls_ca: Optional[str] = None,
                 tls_cert: Optional[str] = None, tls_key: Optional[str] = None,
                 reconnect_for: float = 60.0) -> None:
        super().__init__(address, token, token_file, tls_ca, tls_cert, tls_key, reconnect_for,
                         grpc.aio)

    async def close(self) -> None:
        """Closes the connection; calls and iterations in progress fail."""
        for channel in self._coordinators.channels():
            await channel.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, method: str, request: Any, timeout: float = CALL_TIMEOUT,
                    job: Optional[str] = None, spec: bool = False, repeatable: bool = True) -> Any:
        give_up_at, pause = self._failover_deadline(), 0.1
        while True:
            stub, address = self._stub()
            try:
                reply = await getattr(stub, method)(request, timeout=timeout,
                                                    metadata=self.settings.metadata())
                break
            except grpc.RpcError as e:
                wait = self._retry_after(address, e, repeatable, give_up_at, pause)
                if wait is None:
                    raise from_rpc_error(e, address, job, spec=spec) from None
                await asyncio.sleep(wait)
                pause = min(pause * 2, 1.0)
        self.clock.receive(reply.lamport)
        return reply

    async def submit(self, spec: SpecLike, key: Optional[str] = None, *,
                     cache: Optional[str] = None) -> "JobHandle":
        """As `hollerith.Client.submit`."""
        reply = await self._call("SubmitJob", self._submit_request(spec, key, cache),
                                 SUBMIT_TIMEOUT, spec=True, repeatable=bool(key))
        return JobHandle(self, reply.job_id, name=reply.name, existing=reply.existing,
                         warnings=list(reply.warnings), tenant=reply.tenant)

    async def job(self, job: str) -> "JobHandle":
        """As `hollerith.Client.job`."""
        status = await JobHandle(self, job).status()
        return JobHandle(self, status.job_id, name=status.name, tenant=status.tenant)

    async def jobs(self) -> List[JobStatus]:
        """As `hollerith.Client.jobs`."""
        return self._jobs(await self._call("ListJobs", self._jobs_request()))

    async def workers(self) -> List[WorkerInfo]:
        """As `hollerith.Client.workers`."""
        return self._workers(await self._call("ListWorkers", self._workers_request()))


class JobHandle(JobBase):
    """A job on the coordinator, for asyncio: as `hollerith.JobHandle`."""

    def __init__(self, client: Client, job_id: str, *, name: str = "", existing: bool = False,
                 warnings: Optional[List[str]] = None, tenant: str = "") -> None:
        super().__init__(job_id, name, existing, warnings, tenant)
        self.client = client

    async def status(self) -> JobStatus:
        """As `hollerith.JobHandle.status`."""
        c = self.client
        return status_of(await c._call("GetJob", c._job_ref(self.id), job=self.id))

    async def events(self, *, timeout: Optional[float] = None) -> AsyncIterator[JobEvent]:
        """As `hollerith.JobHandle.events`: resumes after a dropped stream."""
        c = self.client
        deadline = None if timeout is None else time.monotonic() + timeout
        cursor = WatchCursor(self.id, c.address, c.reconnect_for, deadline)
        while not cursor.finished:
            stub, address = c._stub()
            try:
                stream = stub.WatchJob(cursor.request(c.clock), timeout=cursor.timeout(),
                                       metadata=c.settings.metadata())
                try:
                    async for batch in stream:
                        for event in cursor.take(batch, c.clock):
                            yield event
                        if cursor.finished:
                            break
                finally:
                    stream.cancel()
                return
            except grpc.RpcError as e:
                if not c._coordinators.follow(address, e):  # to the leader a standby named: now
                    await asyncio.sleep(cursor.retry_after(e))

    async def wait(self, timeout: Optional[float] = None, *, progress: Optional[bool] = None,
                   check: bool = False, out: Optional[TextIO] = None) -> JobResult:
        """As `hollerith.JobHandle.wait`."""
        status = await self.status()
        display = self._display(status, progress, out)
        if status.finished:  # nothing to follow: its history need not be replayed
            return self._result(status, check, display)
        async for event in self.events(timeout=timeout):
            if display is not None:
                display.apply(event)
        return self._result(await self.status(), check, display)

    async def logs(self, card: str = "", *, follow: bool = False) -> AsyncIterator[LogChunk]:
        """As `hollerith.JobHandle.logs`."""
        c = self.client
        request, timeout = c._log_request(self.id, card, follow)
        try:
            async for chunk in c._stub()[0].ReadLog(request, timeout=timeout,
                                                    metadata=c.settings.metadata()):
                c.clock.receive(chunk.lamport)
                yield LogChunk.from_proto(chunk)
        except grpc.RpcError as e:
            raise from_rpc_error(e, c.address, self.id) from None

    async def cancel(self) -> str:
        """As `hollerith.JobHandle.cancel`."""
        c = self.client
        return str((await c._call("CancelJob", c._job_ref(self.id), job=self.id)).state)

    async def trace(self, path: "str | os.PathLike[str]") -> str:
        """As `hollerith.JobHandle.trace`."""
        c = self.client
        data = bytearray()
        try:
            async for chunk in c._stub()[0].GetTrace(c._job_ref(self.id), timeout=STREAM_TIMEOUT,
                                                     metadata=c.settings.metadata()):
                c.clock.receive(chunk.lamport)
                data += chunk.data
        except grpc.RpcError as e:
            raise from_rpc_error(e, c.address, self.id) from None
        with open(path, "wb") as f:
            f.write(data)
        return os.fspath(path)
