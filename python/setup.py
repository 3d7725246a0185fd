"""Generates the gRPC stubs (hollerith/_proto) from ../proto/hollerith.proto with Debian's protoc
before the package is built (`pip install --no-build-isolation ./python`), unless the tree holds
them already (the CMake build's staged copy, build/python). Everything else is in
pyproject.toml."""

import os
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_stubs  # noqa: E402  (next to this file, which pip runs from elsewhere)

if not os.path.exists(os.path.join(HERE, "hollerith", "_proto", "hollerith_pb2.py")):
    gen_stubs.generate(os.environ.get("HOLLERITH_PROTO",
                                      os.path.join(HERE, "..", "proto", "hollerith.proto")), HERE)

setup()
