"""The job specs the benchmark's workloads submit (spec_* writers, JSON or YAML text) and
downstream(), the cards a changed card reaches."""

import json


# ----------------------------------------------------------------------------- job specs (JSON)

NOOP = '{"id": "c0", "builtin": "noop"}'


def spec_fanout(stacks, name="fanout_noop", job_keys="", version=None):
    """`stacks` one-card no-op stacks. `job_keys`: JSON members put before "stacks"; `version`:
    every stack gets `cache_version: VERSION-i` (a cache key of its own)."""
    keys = (lambda i: f'"cache_version": "{version}-{i}", ') if version else (lambda i: "")
    body = ",".join(f'"s{i}": {{{keys(i)}"cards": [{NOOP}]}}' for i in range(stacks))
    return f'{{"name": "{name}", {job_keys}"stacks": {{{body}}}}}'


def spec_fanout_runtime(stacks):
    """One card writes the list of `stacks` items; a run-time matrix makes a no-op stack each."""
    make = ("awk 'BEGIN { printf \"[\"; for (i = 0; i < %d; i++) printf (i ? \",%%d\" : \"%%d\"), i; "
            "print \"]\" }' > l.json" % stacks)
    return json.dumps({"name": "fanout_runtime", "stacks": {
        "list": {"cards": [{"id": "make", "run": make, "outputs": ["l.json"]}]},
        "s": {"matrix": {"from": "list.make:l.json"}, "cards": [{"id": "c0", "builtin": "noop"}]},
    }})


def spec_chain(cards):
    a, b = [], []
    for i in range(cards):
        after_a = f', "after": ["B.c{i - 1}"]' if i > 0 else ""
        a.append(f'{{"id": "c{i}", "builtin": "noop"{after_a}}}')
        b.append(f'{{"id": "c{i}", "builtin": "noop", "after": ["A.c{i}"]}}')
    return ('{"name": "chain_hop", "stacks": {'
            f'"A": {{"node": "w1", "cards": [{",".join(a)}]}}, '
            f'"B": {{"node": "w2", "cards": [{",".join(b)}]}}}}}}')


def spec_fanin(stacks):
    body = ",".join(f'"s{i}": {{"cards": [{NOOP}]}}' for i in range(stacks))
    return f'{{"name": "fanin", "stacks": {{{body}}}, "combine": {{"builtin": "noop"}}}}'


def spec_shell(cards, shape):
    card = '"run": ["true"]'  # argv: exec'd directly, as make execs a recipe without metacharacters
    if shape == "stacks":
        body = ",".join(f'"s{i}": {{"cards": [{{"id": "c0", {card}}}]}}' for i in range(cards))
    else:  # two long stacks, one per worker
        half = [cards - cards // 2, cards // 2]
        body = ",".join(
            f'"{n}": {{"node": "{w}", "cards": ['
            + ",".join(f'{{"id": "c{i}", {card}}}' for i in range(k)) + "]}"
            for n, w, k in (("A", "w1", half[0]), ("B", "w2", half[1])) if k > 0)
    return f'{{"name": "shell", "stacks": {{{body}}}}}'


def spec_million(stacks, cards):
    stack = '{"cards": [' + ",".join(f'{{"id": "c{j}", "builtin": "noop"}}'
                                     for j in range(cards)) + "]}"
    body = ",".join(f'"s{i}": {stack}' for i in range(stacks))
    return f'{{"name": "million", "stacks": {{{body}}}}}'


def spec_million_yaml(stacks, cards):
    """The same job as spec_million, in block-style YAML as people write it (the coordinator
    parses a spec as JSON only when its first non-blank character is `{`)."""
    stack = "    cards:\n" + "".join(f"      - id: c{j}\n        builtin: noop\n"
                                     for j in range(cards))
    return "name: million\nstacks:\n" + "".join(f"  s{i}:\n{stack}" for i in range(stacks))


def spec_montage(images, changed=None):
    """A Montage-like shell job of 4·images + 1 cards, all `cache: true`, each a small sh -c
    command on files of a few KB: stack pI's `project` writes p.dat; stack dI's `diff` reads the
    projections of I and its neighbour I+1 (wrapping), its `fit` the diff; stack bI's `background`
    reads projection I and fit I; one `add` reads every background. `changed`: the image whose
    project command (and so its p.dat) differs."""
    stacks = {}
    for i in range(images):
        tag = f"p{i}" + ("-changed" if i == changed else "")
        stacks[f"p{i}"] = {"cards": [{"id": "project", "outputs": ["p.dat"],
                                      "run": f"seq 1 500 | sed 's/^/{tag}-/' > p.dat"}]}
        stacks[f"d{i}"] = {"cards": [
            {"id": "diff", "run": "paste a.dat b.dat > d.dat", "outputs": ["d.dat"],
             "inputs": [{"from": f"p{i}.project:p.dat", "dest": "a.dat"},
                        {"from": f"p{(i + 1) % images}.project:p.dat", "dest": "b.dat"}]},
            {"id": "fit", "run": "cksum d.dat > f.dat && head -c 2048 d.dat >> f.dat",
             "outputs": ["f.dat"]}]}
        stacks[f"b{i}"] = {"cards": [{"id": "background", "run": "cat p.dat f.dat > b.dat",
                                      "inputs": [f"p{i}.project:p.dat", f"d{i}.fit:f.dat"],
                                      "outputs": ["b.dat"]}]}
    stacks["add"] = {"cards": [{"id": "add", "run": "cat b*.dat | cksum > mosaic.txt",
                                "outputs": ["mosaic.txt"],
                                "inputs": [{"from": f"b{i}.background:b.dat", "dest": f"b{i}.dat"}
                                           for i in range(images)]}]}
    return json.dumps({"name": "cache_rerun", "cache": True, "stacks": stacks})


def downstream(spec, card):
    """STACK.CARD names a change to `card` reaches in a spec: itself, the cards after it in its
    stack (their keys chain), and, transitively, those reading its outputs (every command here
    writes what it reads into its outputs, so a changed input changes them)."""
    stacks = json.loads(spec)["stacks"]
    reached, grew = {card}, True
    while grew:
        grew = False
        for s, st in stacks.items():
            for k, c in enumerate(st["cards"]):
                sources = {(x if isinstance(x, str) else x["from"]).split(":")[0]
                           for x in c.get("inputs", [])}
                if k:
                    sources.add(f"{s}.{st['cards'][k - 1]['id']}")
                if f"{s}.{c['id']}" not in reached and sources & reached:
                    reached.add(f"{s}.{c['id']}")
                    grew = True
    return reached
