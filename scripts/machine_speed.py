"""How fast this machine runs Python at the moment: benchmarks print it beside their figures.

On the 2-core virtual machine the benchmarks ran on (1 December 2026), this loop run once every
20 s for 40 minutes took ~28-31 ms of CPU in some readings and ~45-50 ms in others, flipping
within a minute, busy or idle; best of 5 on the idle machine, 14.9-26.5 ms within a minute. The
benchmarks' figures moved with it: the same code gave a Birge/echo ratio of 0.76 and of 0.58 44
minutes apart. A figure is read beside this line.

    .venv/bin/python scripts/machine_speed.py [--every 20] [--minutes 10]
"""

from __future__ import annotations

import argparse
import time

ROUNDS = 300_000


def loop_ms(runs: int = 5) -> float:
    """The fixed loop's CPU time (ms), the best of `runs`: the least disturbed by other work."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        x = 0
        for i in range(ROUNDS):
            x += i * i % 7
        best = min(best, (time.process_time() - started) * 1000)
    return best


def line(when: str) -> str:
    return (f"machine speed {when}: a fixed Python loop took {loop_ms():.1f} ms of CPU "
            f"(best of 5; lower is faster; scripts/machine_speed.py)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=20.0, help="seconds between readings")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long (it stops)")
    args = parser.parse_args()
    until = time.monotonic() + args.minutes * 60
    while time.monotonic() < until:
        print(time.strftime("%H:%M:%S"), line("now"), flush=True)
        time.sleep(args.every)


if __name__ == "__main__":
    main()
