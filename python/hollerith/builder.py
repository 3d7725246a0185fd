"""Build a job spec in Python: the same spec a user would write in YAML.

    job = Job("report")
    a = job.stack("A")
    fetch = a.card("fetch", run="seq 1 1000 > numbers.txt", outputs=["numbers.txt"])
    total = fetch.card("sum", run="awk '{s+=$1} END {print s}' numbers.txt")
    job.stack("B").card("double", after=[total], inputs=[fetch.output("numbers.txt")],
                        run="awk '{s+=2*$1} END {print s}' numbers.txt")
    job.combine(run="cat results/A.sum.stdout results/B.double.stdout")
    print(job.to_yaml())

`after=` and `inputs=` take the `Card` objects the builder returned (or STACK.CARD text, for stacks
made elsewhere, e.g. a matrix's base name). The coordinator checks the spec when it is submitted;
its errors name lines and columns of `to_yaml()`'s text.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import yaml

__all__ = ["Job", "Stack", "Card", "Input"]

#: A command: a string runs under /bin/sh -c, a list is argv.
Command = Union[str, Sequence[str]]
#: A duration: seconds as a number, or text such as "500ms", "30s", "5m".
Duration = Union[int, float, str]


class Input:
    """A file another card declared in its outputs, to be copied into a card's workspace."""

    def __init__(self, card: Union["Card", str], path: str, dest: Optional[str] = None) -> None:
        self.source = f"{card.name if isinstance(card, Card) else card}:{path}"
        self.dest = dest

    def to_spec(self) -> Union[str, Dict[str, str]]:
        return self.source if self.dest is None else {"from": self.source, "dest": self.dest}


InputLike = Union[Input, str, Tuple["Card", str]]


def _duration(value: Duration) -> str:
    if isinstance(value, str):
        return value
    return f"{round(value * 1000)}ms"


def _card_keys(run: Optional[Command], builtin: Optional[Union[str, Mapping[str, Any]]],
               timeout: Optional[Duration], retries: Optional[int],
               env: Optional[Mapping[str, str]], limits: Optional[Mapping[str, Any]],
               extra: Mapping[str, Any]) -> Dict[str, Any]:
    keys: Dict[str, Any] = {}
    if run is not None:
        keys["run"] = run if isinstance(run, str) else list(run)
    if builtin is not None:
        keys["builtin"] = builtin if isinstance(builtin, str) else dict(builtin)
    if timeout is not None:
        keys["timeout"] = _duration(timeout)
    if retries is not None:
        keys["retries"] = retries
    if env:
        keys["env"] = dict(env)
    if limits:
        keys["limits"] = dict(limits)
    keys.update({k: v for k, v in extra.items() if v is not None})
    return keys


class Card:
    """One card of a stack, named STACK.CARD; returned by `Stack.card`."""

    def __init__(self, stack: "Stack", card_id: str, keys: Dict[str, Any]) -> None:
        self.stack = stack
        self.id = card_id
        self.keys = keys

    @property
    def name(self) -> str:
        """STACK.CARD, as `after:` and the result name it."""
        return f"{self.stack.id}.{self.id}"

    def output(self, path: str, dest: Optional[str] = None) -> Input:
        """This card's declared output `path` as an input of another card (at `dest`, else at
        `path`)."""
        return Input(self, path, dest)

    def card(self, card_id: str, run: Optional[Command] = None, **keys: Any) -> "Card":
        """Adds the next card to this card's stack (as `Stack.card`)."""
        return self.stack.card(card_id, run, **keys)

    def __repr__(self) -> str:
        return f"Card({self.name!r})"


class Stack:
    """One stack of a job; returned by `Job.stack`. Its cards run in the order they are added."""

    def __init__(self, job: "Job", stack_id: str, keys: Dict[str, Any]) -> None:
        self.job = job
        self.id = stack_id
        self.keys = keys
        self.cards: List[Card] = []

    def card(self, card_id: str, run: Optional[Command] = None, *,
             builtin: Optional[Union[str, Mapping[str, Any]]] = None,
             after: Iterable[Union[Card, str]] = (), inputs: Iterable[InputLike] = (),
             outputs: Iterable[str] = (), timeout: Optional[Duration] = None,
             retries: Optional[int] = None, env: Optional[Mapping[str, str]] = None,
             limits: Optional[Mapping[str, Any]] = None, cache: Optional[bool] = None,
             cache_version: Optional[str] = None) -> Card:
        """Adds a card: `run` (a shell line, or argv as a list) or `builtin` ("noop",
        {"sleep": "200ms"}); `after` the cards it waits for; `inputs` the files it needs
        (`card.output(path)`, or (card, path)); `outputs` the files it publishes. The other keys
        are the spec's (`hollerith help spec`)."""
        keys: Dict[str, Any] = {"id": card_id}
        keys.update(_card_keys(run, builtin, timeout, retries, env, limits, {}))
        names = [a.name if isinstance(a, Card) else a for a in after]
        if names:
            keys["after"] = names
        specs = [_input(i).to_spec() for i in inputs]
        if specs:
            keys["inputs"] = specs
        if outputs:
            keys["outputs"] = list(outputs)
        keys.update({k: v for k, v in (("cache", cache), ("cache_version", cache_version))
                     if v is not None})
        card = Card(self, card_id, keys)
        self.cards.append(card)
        return card

    def to_spec(self) -> Dict[str, Any]:
        return {**self.keys, "cards": [c.keys for c in self.cards]}

    def __repr__(self) -> str:
        return f"Stack({self.id!r}, {len(self.cards)} cards)"


def _input(value: InputLike) -> Input:
    if isinstance(value, Input):
        return value
    if isinstance(value, tuple):
        return Input(value[0], value[1])
    return Input(*value.split(":", 1)) if ":" in value else Input(value, "")


class Job:
    """A job spec being built: `stack()` adds stacks, `combine()` the last card; `to_yaml()`,
    `to_json()` and `to_dict()` give the spec; `Client.submit(job)` submits it."""

    def __init__(self, name: str, *, priority: Optional[int] = None, tenant: Optional[str] = None,
                 cache: Optional[bool] = None, cache_version: Optional[str] = None) -> None:
        self.name = name
        self.keys: Dict[str, Any] = {k: v for k, v in (
            ("priority", priority), ("tenant", tenant), ("cache", cache),
            ("cache_version", cache_version)) if v is not None}
        self.stacks: Dict[str, Stack] = {}
        self._combine: Optional[Dict[str, Any]] = None

    def stack(self, stack_id: str, *, node: Optional[str] = None,
              labels: Optional[Mapping[str, str]] = None,
              resources: Optional[Mapping[str, Any]] = None, cache: Optional[bool] = None,
              cache_version: Optional[str] = None, **keys: Any) -> Stack:
        """Adds a stack: `node` (a worker's name) or `labels` say where it may run, `resources`
        what each of its running cards holds; other keys of the spec (`matrix`, `uses`, `with`)
        pass as they are."""
        if stack_id in self.stacks:
            raise ValueError(f"stack {stack_id!r} is already in job {self.name!r}")
        given = {"node": node, "labels": dict(labels) if labels else None,
                 "resources": dict(resources) if resources else None, "cache": cache,
                 "cache_version": cache_version, **keys}
        stack = Stack(self, stack_id, {k: v for k, v in given.items() if v is not None})
        self.stacks[stack_id] = stack
        return stack

    def combine(self, run: Optional[Command] = None, *,
                builtin: Optional[Union[str, Mapping[str, Any]]] = None,
                timeout: Optional[Duration] = None, retries: Optional[int] = None,
                env: Optional[Mapping[str, str]] = None,
                limits: Optional[Mapping[str, Any]] = None, card_id: Optional[str] = None) -> None:
        """Sets the card that runs after every stack, with every card's stdout at
        results/STACK.CARD.stdout and every declared output at results/STACK.CARD/PATH."""
        self._combine = _card_keys(run, builtin, timeout, retries, env, limits, {"id": card_id})

    def to_dict(self) -> Dict[str, Any]:
        """The spec as a dict of its keys."""
        spec: Dict[str, Any] = {"name": self.name, **self.keys,
                                "stacks": {s.id: s.to_spec() for s in self.stacks.values()}}
        if self._combine is not None:
            spec["combine"] = self._combine
        return spec

    def to_yaml(self) -> str:
        """The spec as YAML, keys in the order a person writes them."""
        return str(yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False,
                                  width=100))

    def to_json(self) -> str:
        """The spec as JSON."""
        return json.dumps(self.to_dict(), indent=2)

    def __repr__(self) -> str:
        return f"Job({self.name!r}, {len(self.stacks)} stacks)"
