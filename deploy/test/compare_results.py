#!/usr/bin/python3
"""Compares two result documents (`--json` of run/submit): every card's state, exit code, stdout,
attempt count aside, and output digests must be equal. Optional NODE checks: CARD=node1|node2.
Usage: compare_results.py LOCAL.json CLUSTER.json [STACK.CARD=NODE[|NODE...]]..."""
import json
import sys


def main():
    local, cluster = (json.load(open(p)) for p in sys.argv[1:3])
    problems = []
    if local["state"] != cluster["state"]:
        problems.append(f"job state: local {local['state']}, cluster {cluster['state']}")
    if set(local["cards"]) != set(cluster["cards"]):
        problems.append(f"cards differ: {sorted(local['cards'])} vs {sorted(cluster['cards'])}")
    for name, want in local["cards"].items():
        got = cluster["cards"].get(name, {})
        for key in ("state", "exit_code", "stdout", "outputs"):
            if want.get(key) != got.get(key):
                problems.append(f"{name}.{key}: local {want.get(key)!r}, cluster {got.get(key)!r}")
    for check in sys.argv[3:]:
        card, nodes = check.split("=", 1)
        node = cluster["cards"].get(card, {}).get("node")
        if node not in nodes.split("|"):
            problems.append(f"{card} ran on {node!r}, expected {nodes}")
    for p in problems:
        print("  mismatch:", p)
    print(f"  {len(local['cards'])} cards compared, {len(problems)} mismatches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
