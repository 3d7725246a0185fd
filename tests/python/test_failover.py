"""Two coordinators on one PostgreSQL store (a real server, started here): a client that knows
only the standby is sent to the leader, and follows the job through the leader's kill -9 to the
standby that takes over; a client given both addresses finds the new leader too."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import grpc
import pytest
from cluster import Cluster

import hollerith
import hollerith.aio
from hollerith._proto import hollerith_pb2, hollerith_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from postgres_server import PostgresServer  # noqa: E402

SLOW = {"name": "slow", "stacks": {
    "A": {"cards": [{"id": "one", "run": "sleep 1"}, {"id": "two", "run": "echo A done"}]},
    "B": {"cards": [{"id": "after", "after": ["A.two"], "run": "echo B done"}]}}}


def test_a_client_follows_the_leader_through_its_kill_9(tmp_path: Path) -> None:
    with PostgresServer() as pg:
        flags = ["--store", pg.uri(pg.fresh_database()), "--store-passfile", pg.passfile(),
                 "--leader-lease-ms", "1000"]
        c = Cluster(tmp_path, workers=0, coordinator_args=flags)
        try:
            leader = c.address
            standby = c.add_standby()
            c.start_worker("w1")
            c.wait_workers(1)
            # A standby answers with the leader's address (the raw call shows it).
            with grpc.insecure_channel(standby) as channel:
                stub = hollerith_pb2_grpc.CoordinatorStub(channel)
                token = Path(c.token_file).read_text().strip()
                with pytest.raises(grpc.RpcError) as raised:
                    stub.ListJobs(hollerith_pb2.ListJobsRequest(), timeout=10,
                                  metadata=[("authorization", f"Bearer {token}")])
                assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
                assert raised.value.details() == f"not the leader; the leader is {leader}"

            with hollerith.Client(standby, token_file=c.token_file) as client:
                job = client.submit(SLOW, key="slow-1")
                failed_over = False
                for event in job.events(timeout=120):
                    if event.kind == "card_started" and event.card == "A.one" and not failed_over:
                        c.fail_over()
                        failed_over = True
                assert failed_over
                result = job.wait(timeout=60)
                assert result.ok and result["B.after"].stdout == "B done\n"

            async def through_the_list() -> str:
                async with hollerith.aio.Client(f"{leader},{standby}",
                                                token_file=c.token_file) as client:
                    job = await client.submit(SLOW, key="slow-2")
                    return (await job.wait(timeout=60))["A.two"].stdout

            assert asyncio.run(through_the_list()) == "A done\n"
        except BaseException:
            print(c.logs())
            raise
        finally:
            c.stop()
