"""The parts of `Client` and `JobHandle` that do not depend on how calls are made: settings,
requests, and what is made of the replies. `hollerith.client` (blocking) and `hollerith.aio`
(asyncio) add the calls."""

from __future__ import annotations

import sys
import time
from typing import Any, Generic, List, Optional, TextIO, Tuple, TypeVar

import grpc

from hollerith._leader import FAILOVER_WINDOW, Coordinators, standby_answer
from hollerith._proto import hollerith_pb2 as pb
from hollerith._proto import hollerith_pb2_grpc as pb_grpc
from hollerith._wire import CHANNEL_OPTIONS, LamportClock, Settings, check_cache_mode
from hollerith.errors import HollerithError, JobFailed
from hollerith.progress import Progress, progress_wanted
from hollerith.results import JobResult, JobStatus, WorkerInfo
from hollerith.spec import SpecLike, spec_text

#: Seconds a unary call may take (a submit: SUBMIT_TIMEOUT; a big spec is parsed first) and a
#: bounded stream (a trace, a log not followed).
CALL_TIMEOUT = 30.0
SUBMIT_TIMEOUT = 120.0
STREAM_TIMEOUT = 300.0

ChannelT = TypeVar("ChannelT")


class ClientBase(Generic[ChannelT]):
    """Settings, the Lamport clock and the requests of a client."""

    def __init__(self, address: Optional[str], token: Optional[str], token_file: Optional[str],
                 tls_ca: Optional[str], tls_cert: Optional[str], tls_key: Optional[str],
                 reconnect_for: float, grpc_module: object) -> None:
        self.settings = Settings.resolve(address, token=token, token_file=token_file,
                                         tls_ca=tls_ca, tls_cert=tls_cert, tls_key=tls_key)
        #: How long `events()` and `wait()` keep reconnecting to a coordinator that went away.
        self.reconnect_for = reconnect_for
        self.clock = LamportClock()
        credentials = self.settings.credentials()
        make = getattr(grpc_module, "secure_channel" if credentials else "insecure_channel")
        args = (credentials,) if credentials else ()

        def make_channel(address: str) -> ChannelT:
            channel: ChannelT = make(address, *args, options=CHANNEL_OPTIONS)
            return channel

        #: The coordinators of the address (a list when several share a PostgreSQL store), and
        #: the one in use: calls follow the leader.
        self._coordinators: Coordinators[ChannelT] = Coordinators(
            self.settings.address, make_channel, pb_grpc.CoordinatorStub)

    @property
    def address(self) -> str:
        """The coordinator's address (or the list of them, as given)."""
        return self.settings.address

    def _retry_after(self, address: str, error: grpc.RpcError, repeatable: bool,
                     give_up_at: float, pause: float) -> Optional[float]:
        """After a call to `address` failed: seconds to wait before making it again (to the
        leader a standby named: 0), or None to give up. A failure that may have reached a leader
        is repeated only if the call is `repeatable` (e.g. a submission with a key)."""
        if standby_answer(error) is None and not repeatable:
            return None
        followed = self._coordinators.follow(address, error)
        if followed is None or time.monotonic() >= give_up_at:
            return None
        return 0.0 if followed else pause

    @staticmethod
    def _failover_deadline() -> float:
        return time.monotonic() + FAILOVER_WINDOW

    def _stub(self) -> Tuple[Any, str]:
        return self._coordinators.current()

    def _submit_request(self, spec: SpecLike, key: Optional[str],
                        cache: Optional[str]) -> pb.SubmitJobRequest:
        text, name = spec_text(spec)
        return pb.SubmitJobRequest(spec=text, spec_name=name, idempotency_key=key or "",
                                   lamport=self.clock.send(), cache=check_cache_mode(cache))

    def _job_ref(self, job: str) -> pb.JobRef:
        return pb.JobRef(job=job, lamport=self.clock.send())

    def _jobs_request(self) -> pb.ListJobsRequest:
        return pb.ListJobsRequest(lamport=self.clock.send())

    def _workers_request(self) -> pb.ListWorkersRequest:
        return pb.ListWorkersRequest(lamport=self.clock.send())

    def _log_request(self, job: str, card: str, follow: bool) -> Tuple[pb.ReadLogRequest,
                                                                        Optional[float]]:
        request = pb.ReadLogRequest(job=job, card=card, follow=follow, lamport=self.clock.send())
        return request, None if follow or not card else STREAM_TIMEOUT

    @staticmethod
    def _jobs(reply: pb.ListJobsResponse) -> List[JobStatus]:
        return [JobStatus.from_proto(j) for j in reply.jobs]

    @staticmethod
    def _workers(reply: pb.ListWorkersResponse) -> List[WorkerInfo]:
        return [WorkerInfo.from_proto(w) for w in reply.workers]


class JobBase:
    """What a job handle knows of its job."""

    def __init__(self, job_id: str, name: str, existing: bool, warnings: Optional[List[str]],
                 tenant: str) -> None:
        self.id = job_id  #: the job's id
        self.name = name  #: the spec's name
        self.existing = existing  #: submit's key matched an earlier submission
        self.warnings: List[str] = warnings or []  #: e.g. a stack no connected worker can hold
        self.tenant = tenant  #: whose share and quota the job counts against

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, name={self.name!r})"

    @staticmethod
    def _display(status: JobStatus, progress: Optional[bool],
                 out: Optional[TextIO]) -> Optional[Progress]:
        """wait()'s progress display: asked for, or by default on a terminal or in a notebook."""
        stream = out if out is not None else sys.stderr
        wanted = progress if progress is not None else progress_wanted(stream)
        return Progress(status, stream) if wanted else None

    def _result(self, status: JobStatus, check: bool, display: Optional[Progress]) -> JobResult:
        """wait()'s answer from the job's final status."""
        if display is not None:
            display.finish(status)
        if status.result is None:
            raise HollerithError(f"job {self.id} ended ({status.state}) without a result")
        if check and not status.result.ok:
            raise JobFailed(f"job {self.id} {status.state}: {status.reason}", status.result)
        return status.result


def status_of(reply: pb.GetJobResponse) -> JobStatus:
    return JobStatus.from_proto(reply.job)


