"""A coordinator restart in the middle of `events()`, and the client over mutual TLS."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster import EXAMPLES, Cluster

import hollerith

SLOW = {"name": "slow", "stacks": {
    "A": {"cards": [{"id": "one", "run": "sleep 1"}, {"id": "two", "run": "sleep 1"},
                    {"id": "three", "run": "echo A done"}]},
    "B": {"cards": [{"id": "wait", "after": ["A.two"], "run": "echo B done"}]}}}


def test_events_go_on_across_a_coordinator_restart(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    c = Cluster(tmp_path)
    try:
        with hollerith.Client(**c.client_kwargs(), reconnect_for=60) as client:
            job = client.submit(SLOW)
            seen = []
            restarted = False
            for event in job.events(timeout=120):
                seen.append(event)
                if event.kind == "card_started" and event.card == "A.one" and not restarted:
                    c.restart_coordinator()  # kill -9, then the same data dir and address
                    restarted = True
            assert restarted
            assert "lost the coordinator" in caplog.text and "reconnecting" in caplog.text
            assert seen[-1].kind == "job_finished" and seen[-1].job_state == "succeeded"
            ids = [(e.kind, e.card, e.attempt, e.lamport) for e in seen]
            assert len(ids) == len(set(ids)), "an event was delivered twice"
            finished = {e.card for e in seen if e.kind == "card_finished"}
            assert finished == {"A.one", "A.two", "A.three", "B.wait"}
            result = job.wait(timeout=60)
            assert result.ok and result["B.wait"].stdout == "B done\n"
    finally:
        c.stop()


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    c = Cluster(tmp_path_factory.mktemp("tls"), tls=True)
    try:
        yield c
    finally:
        c.stop()


def test_mutual_tls_with_a_client_certificate(tls_cluster: Cluster, tmp_path: Path) -> None:
    with hollerith.Client(**tls_cluster.client_kwargs()) as client:
        assert client.settings.token is None
        job = client.submit(EXAMPLES / "report.yaml")
        assert job.wait(timeout=120)["combine"].stdout == "500500 1001000\n"
        chunks = list(job.logs("A.sum"))
        assert "".join(c.text for c in chunks) == "500500\n"
        assert Path(job.trace(tmp_path / "trace.json")).stat().st_size > 0
        assert sorted(w.name for w in client.workers()) == ["w1", "w2"]


def test_mutual_tls_reads_the_clis_environment(tls_cluster: Cluster,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in tls_cluster.cli_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HOLLERITH_TOKEN_FILE", raising=False)
    with hollerith.Client() as client:
        assert client.settings.tls is not None
        assert client.jobs() is not None


def test_a_worker_certificate_may_not_submit(tls_cluster: Cluster) -> None:
    with hollerith.Client(**tls_cluster.client_kwargs(role="w1")) as as_worker:
        with pytest.raises(hollerith.PermissionError):
            as_worker.submit(EXAMPLES / "report.yaml")


def test_a_token_on_a_tls_coordinator_is_refused(tls_cluster: Cluster) -> None:
    with hollerith.Client(tls_cluster.address, token="0" * 64) as plaintext:
        with pytest.raises((hollerith.Unavailable, hollerith.AuthError)):
            plaintext.jobs()
