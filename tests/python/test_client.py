"""The blocking client against a real coordinator and two workers (plaintext, a token)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
import yaml
from cluster import CLI, EXAMPLES, Cluster, hollerith as run_cli

import hollerith

REPORT = EXAMPLES / "report.yaml"


def report_job() -> hollerith.Job:
    """examples/report.yaml, built in Python."""
    job = hollerith.Job("report")
    a = job.stack("A")
    fetch = a.card("fetch", run="sh -c 'seq 1 1000 > numbers.txt'", outputs=["numbers.txt"])
    total = fetch.card("sum", run="awk '{s+=$1} END {print s}' numbers.txt")
    b = job.stack("B")
    b.card("prepare", run="echo preparing")
    b.card("double", after=[total], inputs=[fetch.output("numbers.txt")],
           run="awk '{s+=2*$1} END {print s}' numbers.txt", timeout=30, retries=2)
    job.combine(run="sh -c 'echo $(cat results/A.sum.stdout) $(cat results/B.double.stdout)'")
    return job


def test_the_builder_writes_the_spec_a_user_would(tmp_path: Path) -> None:
    built = yaml.safe_load(report_job().to_yaml())
    written = yaml.safe_load(REPORT.read_text())
    built["stacks"]["B"]["cards"][1]["timeout"] = "30s"  # the builder writes 30000ms
    assert built == written
    (tmp_path / "built.yaml").write_text(report_job().to_yaml())
    check = run_cli("validate", str(tmp_path / "built.yaml"))
    assert check.returncode == 0, check.stderr


def test_submit_a_file_and_wait_for_its_result(client: hollerith.Client) -> None:
    job = client.submit(REPORT)
    assert job.name == "report" and job.id and not job.existing
    result = job.wait(timeout=120)
    assert result.ok and result.state == "succeeded"
    assert list(result.cards) == ["A.fetch", "A.sum", "B.prepare", "B.double", "combine"]
    assert result["combine"].stdout == "500500 1001000\n"
    assert result["A.fetch"].outputs["numbers.txt"] == \
        "67d4ff71d43921d5739f387da09746f405e425b07d727e4c69d029461d1f051f"
    assert {result[c].node for c in ("A.sum", "B.double")} <= {"w1", "w2"}
    assert job.status().finished and job.status().result == result


@pytest.mark.parametrize("form", ["text", "json", "dict", "builder", "path-string"])
def test_every_form_of_spec_runs_the_same_job(client: hollerith.Client, form: str) -> None:
    text = REPORT.read_text()
    spec: object = {"text": text, "json": json.dumps(yaml.safe_load(text)),
                    "dict": yaml.safe_load(text), "builder": report_job(),
                    "path-string": str(REPORT)}[form]
    result = client.submit(spec).wait(timeout=120)  # type: ignore[arg-type]
    assert result["combine"].stdout == "500500 1001000\n", form


def test_a_key_makes_the_submission_idempotent(client: hollerith.Client) -> None:
    first = client.submit(REPORT, key="python-key-1")
    again = client.submit(REPORT, key="python-key-1")
    assert again.existing and again.id == first.id
    assert first.wait(timeout=120).ok


def test_events_come_in_order_and_end_with_the_job(client: hollerith.Client) -> None:
    job = client.submit(REPORT)
    events = list(job.events(timeout=120))
    assert events[-1].kind == "job_finished" and events[-1].job_state == "succeeded"
    started = {e.card: i for i, e in enumerate(events) if e.kind == "card_started"}
    finished = {e.card: i for i, e in enumerate(events) if e.kind == "card_finished"}
    assert set(started) == {"A.fetch", "A.sum", "B.prepare", "B.double", "combine"}
    assert all(started[c] < finished[c] for c in started)
    # B.double is released by A.sum's completion: its start follows A.sum's finish.
    assert finished["A.sum"] < started["B.double"]
    sum_finish = events[finished["A.sum"]]
    assert events[started["B.double"]].lamport > sum_finish.lamport
    # Iterating again replays the same history.
    assert [(e.kind, e.lamport) for e in job.events(timeout=60)] == \
        [(e.kind, e.lamport) for e in events]


def test_logs_follow_a_card_while_it_runs(client: hollerith.Client) -> None:
    job = client.submit({"name": "talk", "stacks": {"S": {"cards": [
        {"id": "talk", "run": "sh -c 'echo one; sleep 1; echo two >&2; sleep 1; echo three'"}]}}})
    next(e for e in job.events(timeout=60) if e.kind == "card_started")
    chunks = list(job.logs("S.talk", follow=True))
    assert job.status().state == "succeeded"
    out = "".join(c.text for c in chunks if c.stream == "stdout")
    err = "".join(c.text for c in chunks if c.stream == "stderr")
    assert out == "one\nthree\n" and err == "two\n"
    assert chunks[-1].ended and chunks[-1].exit_code == 0 and chunks[-1].state == "succeeded"
    # Afterwards, without follow: the kept output.
    assert "".join(c.text for c in job.logs("S.talk") if c.stream == "stdout") == "one\nthree\n"


def test_cancel_ends_a_running_job(client: hollerith.Client) -> None:
    job = client.submit({"name": "long", "stacks": {"S": {"cards": [
        {"id": "nap", "run": "sleep 120"}, {"id": "after", "run": "echo never"}]}}})
    next(e for e in job.events(timeout=60) if e.kind == "card_started")
    job.cancel()
    result = job.wait(timeout=60)
    assert result.state == "cancelled"
    assert result["S.after"].state != "succeeded"


def test_the_trace_verifies(client: hollerith.Client, tmp_path: Path) -> None:
    job = client.submit(REPORT)
    assert job.wait(timeout=120).ok
    path = job.trace(tmp_path / "trace.json")
    verify = subprocess.run([str(CLI), "verify", path, "--spec", str(REPORT)],
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_jobs_workers_and_a_job_by_name(client: hollerith.Client, cluster: Cluster) -> None:
    job = client.submit({"name": "listed-once", "stacks": {"S": {"cards": [
        {"id": "c", "builtin": "noop"}]}}})
    job.wait(timeout=60)
    assert job.id in [j.job_id for j in client.jobs()]
    assert client.job("listed-once").id == job.id
    assert sorted(w.name for w in client.workers()) == ["w1", "w2"]


def test_a_failed_card_fails_the_job_and_check_raises(client: hollerith.Client) -> None:
    spec = {"name": "fails", "stacks": {"S": {"cards": [{"id": "bad", "run": "sh -c 'exit 3'"}]}}}
    result = client.submit(spec).wait(timeout=60)
    assert result.state == "failed" and result["S.bad"].exit_code == 3
    with pytest.raises(hollerith.JobFailed) as failed:
        client.submit(spec).wait(timeout=60, check=True)
    assert failed.value.result.state == "failed"  # type: ignore[attr-defined]


def test_progress_draws_only_when_asked_or_on_a_terminal(client: hollerith.Client) -> None:
    quiet, shown = io.StringIO(), io.StringIO()
    client.submit(REPORT).wait(timeout=120, out=quiet)
    client.submit(REPORT).wait(timeout=120, out=shown, progress=True)
    assert quiet.getvalue() == ""
    last = shown.getvalue().split("\033[2K")[-1]
    assert "report  5/5 cards" in last and "A " in last and "done" in last


def test_a_timeout_raises_timeout_error(client: hollerith.Client) -> None:
    job = client.submit({"name": "slow", "stacks": {"S": {"cards": [
        {"id": "nap", "run": "sleep 60"}]}}})
    with pytest.raises(TimeoutError):
        job.wait(timeout=1)
    job.cancel()
