"""Submits a spec file, prints its events as they happen (as `hollerith watch` does), then each
card's result. Usage: python3 follow.py SPEC.yaml"""
import sys

import hollerith

client = hollerith.Client()
job = client.submit(sys.argv[1])
print(f"submitted {job.name} as {job.id}")
for event in job.events():
    where = event.card or event.stack
    print(f"{event.lamport:>6} {event.kind:<14} {where} {event.node}")
result = job.wait()
for name, card in result.cards.items():
    print(f"{name:<20} {card.state:<10} exit {card.exit_code}  {card.stdout.strip()[:40]}")
sys.exit(0 if result.ok else 1)
