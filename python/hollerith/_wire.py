"""What the blocking and the asyncio clients share: their settings (the CLI's flags and
environment), the credentials of the channel, the Lamport clock every request carries, and the
bookkeeping of a `WatchJob` stream that resumes after a dropped connection."""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

import grpc

from hollerith._proto import hollerith_pb2 as pb
from hollerith.errors import AuthError, HollerithError, from_rpc_error
from hollerith.results import JobEvent

#: Where the client says what it does on its own (reconnecting after a lost stream).
log = logging.getLogger("hollerith")

#: The CLI's default coordinator address.
DEFAULT_COORDINATOR = "127.0.0.1:7070"
#: The largest message either side accepts (a spec of a million cards fits).
MAX_MESSAGE_BYTES = 256 << 20
CHANNEL_OPTIONS: Sequence[Tuple[str, int]] = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
)


@dataclass(frozen=True)
class Settings:
    """Where the coordinator is and the credential to show it: a bearer token, or TLS files."""

    address: str
    token: Optional[str] = None
    tls: Optional[Tuple[bytes, bytes, bytes]] = None  # CA bundle, client certificate, its key

    @staticmethod
    def resolve(address: Optional[str] = None, *, token: Optional[str] = None,
                token_file: Optional[str] = None, tls_ca: Optional[str] = None,
                tls_cert: Optional[str] = None, tls_key: Optional[str] = None) -> "Settings":
        """The arguments given, else the CLI's environment variables (HOLLERITH_COORDINATOR,
        HOLLERITH_TOKEN_FILE, HOLLERITH_TLS_CA/CERT/KEY), else the CLI's defaults."""
        address = _setting(address, "HOLLERITH_COORDINATOR") or DEFAULT_COORDINATOR
        files = [_setting(tls_ca, "HOLLERITH_TLS_CA"), _setting(tls_cert, "HOLLERITH_TLS_CERT"),
                 _setting(tls_key, "HOLLERITH_TLS_KEY")]
        if any(files):
            if not all(files):
                raise AuthError("TLS needs all three of tls_ca, tls_cert and tls_key (or "
                                "HOLLERITH_TLS_CA, HOLLERITH_TLS_CERT, HOLLERITH_TLS_KEY)")
            ca, cert, key = (_read(path) for path in files)
            return Settings(address, tls=(ca, cert, key))
        if token:
            return Settings(address, token=token)
        token_file = _setting(token_file, "HOLLERITH_TOKEN_FILE")
        if not token_file:
            raise AuthError("no token: pass token_file= or set HOLLERITH_TOKEN_FILE. The "
                            "coordinator prints 'token file: PATH' when it starts (the file is in "
                            "its --data-dir); `hollerith up` prints the export line to use.")
        text = _read(token_file).decode("utf-8", errors="replace").strip()
        if not text:
            raise AuthError(f"token file {token_file} is empty")
        return Settings(address, token=text)

    def credentials(self) -> Optional[grpc.ChannelCredentials]:
        """TLS channel credentials, or None for a plaintext channel."""
        if self.tls is None:
            return None
        ca, cert, key = self.tls
        return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                            certificate_chain=cert)

    def metadata(self) -> List[Tuple[str, str]]:
        """The call metadata: the bearer token, when the credential is one."""
        return [("authorization", f"Bearer {self.token}")] if self.token else []


def _setting(value: Optional[str], variable: str) -> str:
    """The argument if given, else the environment variable's value, else ""."""
    return value or os.environ.get(variable) or ""


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise AuthError(f"cannot read {path}: {e.strerror}") from None


class LamportClock:
    """The client's Lamport clock: ticked for every request, merged with every answer."""

    def __init__(self) -> None:
        self._time = 0
        self._lock = threading.Lock()

    def send(self) -> int:
        with self._lock:
            self._time += 1
            return self._time

    def receive(self, remote: int) -> None:
        with self._lock:
            self._time = max(self._time, remote) + 1


class WatchCursor:
    """One `events()` iteration across however many WatchJob streams it takes.

    The coordinator replays a job's events in trace order from the start of each stream, so a
    resumed stream skips the events already delivered (the trace is append-only). A stream that
    breaks because the coordinator cannot be reached is reopened with backoff for up to
    `reconnect_for` seconds after the last event that arrived; any other failure is raised."""

    def __init__(self, job: str, address: str, reconnect_for: float,
                 deadline: Optional[float] = None) -> None:
        self.job = job
        self.address = address
        self.reconnect_for = reconnect_for
        self.deadline = deadline  # time.monotonic() by which the job must end, if any
        self.finished = False
        self.delivered = 0
        self._seen = 0  # events of the current stream, delivered or skipped
        self._give_up_at = time.monotonic() + reconnect_for
        self._backoff = 0.1
        self._in_outage = False

    def request(self, clock: LamportClock) -> pb.WatchJobRequest:
        self._seen = 0
        return pb.WatchJobRequest(job=self.job, from_lamport=0, lamport=clock.send())

    def timeout(self) -> Optional[float]:
        """The gRPC timeout of the next stream: what is left until the deadline."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def take(self, batch: pb.JobEventBatch, clock: LamportClock) -> Iterable[JobEvent]:
        """The batch's events not delivered before; marks the cursor finished at job_finished."""
        clock.receive(batch.lamport)
        out: List[JobEvent] = []
        for ev in batch.events:
            self._seen += 1
            if self._seen <= self.delivered or self.finished:
                continue
            self.delivered += 1
            out.append(JobEvent.from_proto(ev))
            if ev.kind == "job_finished":
                self.finished = True
        if out:
            self._give_up_at = time.monotonic() + self.reconnect_for
            self._backoff = 0.1
            self._in_outage = False
        return out

    def retry_after(self, error: grpc.RpcError) -> float:
        """How long to wait before reopening the stream after `error`; raises when it is not
        worth reopening (the error as an exception of the client's, or TimeoutError)."""
        code = error.code() if hasattr(error, "code") else None
        if code == grpc.StatusCode.DEADLINE_EXCEEDED and self.deadline is not None:
            raise TimeoutError(f"job {self.job} did not end in time")
        # CANCELLED here is the server's (a coordinator shutting down, a standby handing over).
        if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED) or \
                time.monotonic() >= self._give_up_at:
            raise from_rpc_error(error, self.address, self.job) from None
        if not self._in_outage:
            self._in_outage = True
            log.warning("lost the coordinator at %s (%s); reconnecting, resuming after event %d",
                        self.address, error.details() if hasattr(error, "details") else "",
                        self.delivered)
        delay = self._backoff * (0.5 + random.random())
        self._backoff = min(self._backoff * 2, 2.0)
        if self.deadline is not None and time.monotonic() + delay >= self.deadline:
            raise TimeoutError(f"job {self.job} did not end in time")
        return delay


def check_cache_mode(cache: Optional[str]) -> str:
    """The SubmitJobRequest.cache value for the `cache=` argument of submit."""
    if cache in (None, "", "on"):
        return ""
    if cache in ("refresh", "read-only"):
        return cache
    raise HollerithError(f"cache must be 'on', 'refresh' or 'read-only', not {cache!r}")
