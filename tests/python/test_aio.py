"""The asyncio client: the same calls, awaited, against the same kind of cluster."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cluster import EXAMPLES, Cluster

import hollerith
from hollerith import aio

REPORT = EXAMPLES / "report.yaml"


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coroutine, timeout=240))


def test_submit_events_and_wait(cluster: Cluster) -> None:
    async def main() -> None:
        async with aio.Client(**cluster.client_kwargs()) as client:
            job = await client.submit(REPORT)
            kinds = [e.kind async for e in job.events(timeout=120)]
            assert kinds[-1] == "job_finished" and kinds.count("card_finished") == 5
            result = await job.wait(timeout=60)
            assert result["combine"].stdout == "500500 1001000\n"
            assert (await job.status()).finished
            assert job.id in [j.job_id for j in await client.jobs()]
            assert sorted(w.name for w in await client.workers()) == ["w1", "w2"]
            assert (await client.job(job.id)).name == "report"
    run(main())


def test_several_jobs_awaited_together(cluster: Cluster) -> None:
    async def main() -> None:
        async with aio.Client(**cluster.client_kwargs()) as client:
            jobs = [await client.submit(REPORT) for _ in range(4)]
            results = await asyncio.gather(*(j.wait(timeout=120) for j in jobs))
            assert [r.state for r in results] == ["succeeded"] * 4
            assert len({j.id for j in jobs}) == 4
    run(main())


def test_logs_follow_cancel_and_trace(cluster: Cluster, tmp_path: Path) -> None:
    async def main() -> None:
        async with aio.Client(**cluster.client_kwargs()) as client:
            talk = await client.submit({"name": "talk", "stacks": {"S": {"cards": [
                {"id": "talk", "run": "sh -c 'echo one; sleep 1; echo two'"}]}}})
            async for event in talk.events(timeout=60):
                if event.kind == "card_started":
                    break
            text = "".join([c.text async for c in talk.logs("S.talk", follow=True)])
            assert text == "one\ntwo\n"
            assert Path(await talk.trace(tmp_path / "t.json")).stat().st_size > 0

            long = await client.submit({"name": "long", "stacks": {"S": {"cards": [
                {"id": "nap", "run": "sleep 120"}]}}})
            async for event in long.events(timeout=60):
                if event.kind == "card_started":
                    break
            await long.cancel()
            assert (await long.wait(timeout=60)).state == "cancelled"
    run(main())


def test_errors_are_the_same_exceptions(cluster: Cluster) -> None:
    async def main() -> None:
        async with aio.Client(**cluster.client_kwargs()) as client:
            with pytest.raises(hollerith.SpecError) as caught:
                await client.submit("name: x\nstacks: {}\nbogus: 1\n")
            assert caught.value.line > 0
            with pytest.raises(hollerith.NotFound):
                await client.job("no-such-job")
        async with aio.Client(cluster.address, token="0" * 64) as wrong:
            with pytest.raises(hollerith.AuthError):
                await wrong.jobs()
    run(main())
