"""The harness's workloads and their sizes: at --scale 1.0 (the issue's), in --smoke, and from the
command line (sizes_for)."""

WORKLOADS = ["fanout_noop", "fanout_runtime", "chain_hop", "hop_rtt", "fanin", "shell", "million",
             "serial", "serial_python", "cache_rerun", "cache_lookup", "scale"]

# Sizes at --scale 1.0 (the issue's) and in --smoke.
FULL = {
    "fanout_noop": {"stacks": 100_000},
    "fanout_runtime": {"stacks": 10_000},
    "chain_hop": {"cards": 1_000},  # per stack
    "hop_rtt": {"cards": 1_000},  # per stack, the chain of chain_hop across the delayed link
    "fanin": {"stacks": 10_000},
    "shell": {"cards": 5_000},
    "million": {"stacks": 1_000, "cards": 1_000},
    "serial": {"jobs": 10_000},
    "serial_python": {"jobs": 1_000},  # per driver run
    "cache_rerun": {"images": 250},  # 4 cards per image and one add: 1,001 cards
    "cache_lookup": {"stacks": 50_000},
    "scale": {"workers": 10_000, "stacks": 100_000},  # compared with the same tool at 3 workers
}
SMOKE = {
    "fanout_noop": {"stacks": 200},
    "fanout_runtime": {"stacks": 100},
    "chain_hop": {"cards": 20},
    "hop_rtt": {"cards": 20},
    "fanin": {"stacks": 100},
    "shell": {"cards": 20},
    "million": {"stacks": 10, "cards": 10},
    "serial": {"jobs": 20},
    "serial_python": {"jobs": 20},
    "cache_rerun": {"images": 5},
    "cache_lookup": {"stacks": 200},
    "scale": {"workers": 20, "stacks": 200},
}
SCALE_BASE_WORKERS = 3  # scale's baseline: the same tool, this many workers, the same stacks


def sizes_for(args):
    if args.smoke:
        sizes = {w: dict(s) for w, s in SMOKE.items()}
    else:
        sc = args.scale

        def scaled(w, key, least=1):
            return max(least, round(FULL[w][key] * sc))
        sizes = {
            "fanout_noop": {"stacks": scaled("fanout_noop", "stacks")},
            "fanout_runtime": {"stacks": scaled("fanout_runtime", "stacks")},
            "chain_hop": {"cards": scaled("chain_hop", "cards", 2)},
            "hop_rtt": {"cards": scaled("hop_rtt", "cards", 2)},
            "fanin": {"stacks": scaled("fanin", "stacks")},
            "shell": {"cards": scaled("shell", "cards")},
            # Fewer cards per stack, always 1,000 stacks (the shape the RSS target is about).
            "million": {"stacks": FULL["million"]["stacks"], "cards": scaled("million", "cards")},
            "serial": {"jobs": scaled("serial", "jobs")},
            "serial_python": {"jobs": scaled("serial_python", "jobs")},
            "cache_rerun": {"images": scaled("cache_rerun", "images", 2)},
            "cache_lookup": {"stacks": scaled("cache_lookup", "stacks")},
            "scale": {"workers": scaled("scale", "workers", SCALE_BASE_WORKERS + 1),
                      "stacks": scaled("scale", "stacks")},
        }
    if args.million_scale is not None:
        sizes["million"]["cards"] = max(1, round(FULL["million"]["cards"] * args.million_scale))
    if args.serial_jobs is not None:
        sizes["serial"]["jobs"] = args.serial_jobs
    if args.scale_workers is not None:
        sizes["scale"]["workers"] = args.scale_workers
    if args.scale_stacks is not None:
        sizes["scale"]["stacks"] = args.scale_stacks
    return sizes
