"""Hollerith's Python client: submit, follow and build jobs of stacks of cards.

    import hollerith
    client = hollerith.Client()   # HOLLERITH_COORDINATOR, HOLLERITH_TOKEN_FILE or HOLLERITH_TLS_*
    result = client.submit("examples/report.yaml").wait()
    print(result.state, result["combine"].stdout)

`hollerith.Job` builds a spec in Python; `hollerith.aio` is the same client for asyncio.
Documentation: docs/python.md.
"""

from hollerith.builder import Card, Input, Job, Stack
from hollerith.client import Client, JobHandle
from hollerith.errors import (AuthError, HollerithError, JobFailed, NotFound, PermissionError,
                              SpecError, SpecProblem, Unavailable)
from hollerith.results import (CardResult, JobEvent, JobResult, JobStatus, LogChunk, StackStatus,
                               WorkerInfo)

__version__ = "0.1.0"

__all__ = ["Client", "JobHandle", "Job", "Stack", "Card", "Input", "HollerithError", "SpecError",
           "SpecProblem", "AuthError", "PermissionError", "NotFound", "Unavailable", "JobFailed",
           "CardResult", "JobResult", "JobStatus", "StackStatus", "JobEvent", "LogChunk",
           "WorkerInfo"]
