"""The exceptions of the client, one per kind of failure. A call never raises a raw gRPC error."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from typing import List, Optional

import grpc

__all__ = ["HollerithError", "SpecError", "SpecProblem", "AuthError", "PermissionError",
           "NotFound", "Unavailable", "JobFailed"]


class HollerithError(Exception):
    """Base of every error the client raises."""


@dataclass(frozen=True)
class SpecProblem:
    """One problem the coordinator found in a spec, at its position (1-based; 0 when unknown)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.message}"


_POSITION = re.compile(r"^(?P<file>[^\n:]*):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)$")


class SpecError(HollerithError, ValueError):
    """The coordinator refused the job's spec. `problems` lists every problem it found, with its
    position; `line` and `column` are the first problem's."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.problems: List[SpecProblem] = []
        for row in text.splitlines():
            match = _POSITION.match(row)
            if match:
                self.problems.append(SpecProblem(match["file"], int(match["line"]),
                                                 int(match["column"]), match["message"]))
            elif row.strip():
                self.problems.append(SpecProblem("", 0, 0, row))
        first = self.problems[0] if self.problems else SpecProblem("", 0, 0, text)
        self.line: int = first.line
        self.column: int = first.column


class AuthError(HollerithError):
    """The coordinator did not accept the credential (token or client certificate), or the
    credential could not be read."""


class PermissionError(HollerithError, builtins.PermissionError):
    """The credential is valid but may not do this (a worker credential, another tenant's job)."""


class NotFound(HollerithError, LookupError):
    """No such job (or card, or cache entry)."""


class Unavailable(HollerithError, ConnectionError):
    """The coordinator could not be reached at `address` (or stopped answering)."""

    def __init__(self, message: str, address: str) -> None:
        super().__init__(message)
        self.address = address


class JobFailed(HollerithError):
    """Raised by `wait(check=True)` when the job did not succeed; `result` is its result."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


def from_rpc_error(error: grpc.RpcError, address: str, job: Optional[str] = None,
                   spec: bool = False) -> HollerithError:
    """The exception for a failed call, in the words the CLI uses for the same failure. `spec`:
    the call submitted a spec, so a refused argument is the spec's problem (SpecError)."""
    code: Optional[grpc.StatusCode] = error.code() if hasattr(error, "code") else None
    details: str = (error.details() if hasattr(error, "details") else None) or ""
    if code == grpc.StatusCode.UNAVAILABLE:
        return Unavailable(f"cannot reach coordinator at {address}: {details}", address)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return Unavailable(f"coordinator at {address} did not answer in time", address)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return AuthError("coordinator rejected the credential (check the token file, or the "
                         "client certificate and key)")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionError(f"coordinator refused: {details}")
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(f"no job '{job}'" if job else (details or "not found"))
    if code == grpc.StatusCode.INVALID_ARGUMENT and spec:
        return SpecError(details)
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                grpc.StatusCode.RESOURCE_EXHAUSTED):
        return HollerithError(details)
    if code == grpc.StatusCode.CANCELLED:
        return HollerithError("call cancelled" + (f": {details}" if details else ""))
    name = code.name if code is not None else "unknown"
    return HollerithError(f"coordinator at {address} failed (gRPC {name}): {details}")
