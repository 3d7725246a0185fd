"""Generates the package's gRPC stubs (hollerith/_proto) from the project's proto/hollerith.proto.

Used by the CMake build (python/CMakeLists.txt) and by `pip install` (setup.py); both run Debian's
protoc and grpc_python_plugin (protobuf-compiler-grpc), nothing is fetched.

    python3 gen_stubs.py PROTO_FILE OUT_DIR    # writes OUT_DIR/hollerith/_proto/*.py{,i}
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile


def generate(proto_file: str, out_dir: str) -> None:
    """Writes hollerith_pb2.py, hollerith_pb2.pyi and hollerith_pb2_grpc.py under
    OUT_DIR/hollerith/_proto, importing each other as `hollerith._proto.*`."""
    plugin = shutil.which("grpc_python_plugin")
    if plugin is None or shutil.which("protoc") is None:
        raise SystemExit("gen_stubs: protoc and grpc_python_plugin are needed "
                         "(apt-get install protobuf-compiler protobuf-compiler-grpc)")
    package = os.path.join(out_dir, "hollerith", "_proto")
    os.makedirs(package, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # The proto is compiled from a path that mirrors the package, so that the generated
        # modules import each other as hollerith._proto.hollerith_pb2 (not as a top-level module).
        staged = os.path.join(tmp, "hollerith", "_proto", "hollerith.proto")
        os.makedirs(os.path.dirname(staged))
        shutil.copyfile(proto_file, staged)
        subprocess.run(["protoc", f"-I{tmp}", f"--python_out={out_dir}", f"--pyi_out={out_dir}",
                        f"--grpc_python_out={out_dir}",
                        f"--plugin=protoc-gen-grpc_python={plugin}", staged], check=True)
    with open(os.path.join(package, "__init__.py"), "w", encoding="utf-8") as init:
        init.write('"""Generated from proto/hollerith.proto by gen_stubs.py: do not edit."""\n')


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: gen_stubs.py PROTO_FILE OUT_DIR")
    generate(sys.argv[1], sys.argv[2])
