"""Fixtures of the Python client's tests: a plaintext cluster with a token, shared by a test
module, and a client of it per test. A failing test prints the cluster's logs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cluster import Cluster  # noqa: E402

import hollerith  # noqa: E402


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture()
def client(cluster: Cluster) -> Iterator[hollerith.Client]:
    with hollerith.Client(**cluster.client_kwargs()) as c:
        yield c


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    funcargs = getattr(item, "funcargs", {})
    if report.failed:
        for value in funcargs.values():
            if isinstance(value, Cluster):
                report.sections.append(("cluster logs", value.logs()))
