"""Generates the gRPC stubs while the package is built (`pip install ./python`), unless the tree
already holds them (the CMake build's staged copy, build/python). Everything else is in
pyproject.toml."""

import os

from setuptools import setup
from setuptools.command.build_py import build_py

import gen_stubs

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildWithStubs(build_py):
    def run(self) -> None:
        if not os.path.exists(os.path.join(HERE, "hollerith", "_proto", "hollerith_pb2.py")):
            proto = os.environ.get("HOLLERITH_PROTO",
                                   os.path.join(HERE, "..", "proto", "hollerith.proto"))
            gen_stubs.generate(proto, self.build_lib)
        super().run()


setup(cmdclass={"build_py": BuildWithStubs})
