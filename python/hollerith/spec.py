"""What `submit` accepts as a spec, turned into the text and name the coordinator reads."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Protocol, Tuple, Union, runtime_checkable

__all__ = ["SpecLike", "spec_text"]


@runtime_checkable
class YamlSpec(Protocol):
    """Anything that renders itself as a job spec in YAML (the builder's `Job`)."""

    name: str

    def to_yaml(self) -> str: ...


#: A path to a YAML/JSON file, the text of a spec, a dict of the spec's keys, or a built `Job`.
SpecLike = Union[str, "os.PathLike[str]", Mapping[str, Any], YamlSpec]

_SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def spec_text(spec: SpecLike) -> Tuple[str, str]:
    """The spec's text and the name its errors are reported under (a file's name, else
    `<string>`, `<dict>` or `NAME.yaml` for a built job)."""
    if isinstance(spec, YamlSpec):
        return spec.to_yaml(), f"{spec.name}.yaml"
    if isinstance(spec, Mapping):
        return json.dumps(spec), "<dict>"
    if isinstance(spec, os.PathLike) or _looks_like_path(spec):
        path = os.fspath(spec)
        with open(path, encoding="utf-8") as f:
            return f.read(), os.path.basename(path)
    return spec, "<string>"


def _looks_like_path(text: str) -> bool:
    """A one-line string naming an existing file, or one ending in .yaml/.yml/.json (a missing
    file is then an error of its own, not a spec that does not parse)."""
    if "\n" in text or text.lstrip().startswith("{"):
        return False
    return os.path.isfile(text) or text.endswith(_SPEC_SUFFIXES)
