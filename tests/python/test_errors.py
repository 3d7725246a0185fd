"""Every kind of error comes back as the client's exception, never as a raw gRPC error."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import grpc
import pytest
from cluster import Cluster

import hollerith

BAD = """name: x
stacks:
  A:
    cards:
      - id: a
        runn: true
      - id: b
        after: [Z.q]
"""


def test_a_bad_spec_is_a_spec_error_with_every_position(client: hollerith.Client) -> None:
    with pytest.raises(hollerith.SpecError) as caught:
        client.submit(BAD)
    error = caught.value
    assert (error.line, error.column) == (5, 9)
    assert [(p.line, p.column) for p in error.problems] == [(5, 9), (6, 9), (7, 9), (8, 17)]
    assert "unknown key 'runn'" in error.problems[1].message
    assert all(p.file == "<string>" for p in error.problems)
    assert not isinstance(error, grpc.RpcError)


def test_a_built_jobs_errors_point_into_its_yaml(client: hollerith.Client) -> None:
    job = hollerith.Job("built")
    job.stack("A").card("a", run="true", after=["Nowhere.x"])
    with pytest.raises(hollerith.SpecError) as caught:
        client.submit(job)
    problem = caught.value.problems[0]
    assert problem.file == "built.yaml" and "unknown stack 'Nowhere'" in problem.message
    line = job.to_yaml().splitlines()[problem.line - 1]
    assert "Nowhere.x" in line[problem.column - 1:], line


def test_a_missing_job_is_not_found(client: hollerith.Client) -> None:
    with pytest.raises(hollerith.NotFound, match="no job 'no-such-job'"):
        client.job("no-such-job")
    with pytest.raises(LookupError):  # NotFound is a LookupError too
        client.job("no-such-job").status()


def test_a_wrong_token_is_an_auth_error(cluster: Cluster) -> None:
    with hollerith.Client(cluster.address, token="0" * 64) as wrong:
        with pytest.raises(hollerith.AuthError, match="rejected the credential"):
            wrong.jobs()


def test_no_token_at_all_is_an_auth_error_that_says_what_to_do(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOLLERITH_TOKEN_FILE", "HOLLERITH_TLS_CA", "HOLLERITH_TLS_CERT",
                 "HOLLERITH_TLS_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(hollerith.AuthError, match="HOLLERITH_TOKEN_FILE"):
        hollerith.Client("127.0.0.1:1")
    with pytest.raises(hollerith.AuthError, match="cannot read /nonexistent/token"):
        hollerith.Client("127.0.0.1:1", token_file="/nonexistent/token")
    with pytest.raises(hollerith.AuthError, match="all three"):
        hollerith.Client("127.0.0.1:1", tls_ca="/etc/hostname")


def test_the_settings_come_from_the_clis_environment(cluster: Cluster,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOLLERITH_COORDINATOR", cluster.address)
    monkeypatch.setenv("HOLLERITH_TOKEN_FILE", cluster.token_file)
    with hollerith.Client() as from_env:
        assert from_env.address == cluster.address
        assert sorted(w.name for w in from_env.workers()) == ["w1", "w2"]


def test_an_unreachable_coordinator_is_unavailable_with_its_address() -> None:
    with socket.socket() as s:  # a port nobody listens on: bound, then closed
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    with hollerith.Client(address, token="t" * 64) as client:
        with pytest.raises(hollerith.Unavailable) as caught:
            client.workers()
    assert caught.value.address == address and address in str(caught.value)
    assert isinstance(caught.value, ConnectionError)


def test_a_worker_credential_may_not_submit(tmp_path: Path) -> None:
    worker_token, client_token = tmp_path / "worker.token", tmp_path / "client.token"
    worker_token.write_text("w" * 64 + "\n")
    client_token.write_text("c" * 64 + "\n")
    for f in (worker_token, client_token):
        os.chmod(f, 0o600)
    c = Cluster(tmp_path / "split", workers=0, coordinator_args=[
        "--worker-token-file", str(worker_token), "--client-token-file", str(client_token)])
    try:
        with hollerith.Client(c.address, token_file=str(worker_token)) as as_worker:
            with pytest.raises(hollerith.PermissionError, match="refused") as caught:
                as_worker.submit({"name": "x", "stacks": {"S": {"cards": [
                    {"id": "c", "builtin": "noop"}]}}})
            assert isinstance(caught.value, PermissionError)  # the builtin one, too
        with hollerith.Client(c.address, token_file=str(client_token)) as as_client:
            assert as_client.jobs() == []
    finally:
        c.stop()
