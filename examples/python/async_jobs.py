"""Three jobs at once from asyncio: submits examples/report.yaml three times and awaits them
together. Usage: python3 async_jobs.py [SPEC.yaml]"""
import asyncio
import sys

from hollerith import aio


async def main(spec: str) -> int:
    async with aio.Client() as client:
        jobs = [await client.submit(spec) for _ in range(3)]
        results = await asyncio.gather(*(job.wait(progress=False) for job in jobs))
    for job, result in zip(jobs, results):
        print(job.id, result.state)
    return 0 if all(r.ok for r in results) else 1


sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "examples/report.yaml")))
