"""The toy reference model in SimPy 4 (process style), Brownout's peer for speed.

Poisson arrivals at 1000 req/s until time S; each attempt takes lognormal(-0.5, 0.5) s and
then fails with probability 0.05; a failed attempt goes to the next provider (0 -> 1 -> 2);
after the third failure the request fails; in-flight work drains after S.

Usage: python3 toy_simpy.py DURATION_SECONDS [SEED]   Prints one JSON object.
"""
import json
import random
import sys
import time

import simpy

PROVIDERS = 3


def main() -> None:
    duration = float(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    arrivals = random.Random(seed * 7 + 1)
    latency = [random.Random(seed * 7 + 2 + 2 * p) for p in range(PROVIDERS)]
    failure = [random.Random(seed * 7 + 3 + 2 * p) for p in range(PROVIDERS)]
    counts = {"requests": 0, "ok": 0, "failed": 0, "attempts": 0}
    env = simpy.Environment()

    def request():
        for provider in range(PROVIDERS):
            counts["attempts"] += 1
            yield env.timeout(latency[provider].lognormvariate(-0.5, 0.5))
            if failure[provider].random() >= 0.05:
                counts["ok"] += 1
                return
        counts["failed"] += 1

    def client():
        while True:
            yield env.timeout(arrivals.expovariate(1000.0))
            if env.now >= duration:
                return
            counts["requests"] += 1
            env.process(request())

    env.process(client())
    start = time.perf_counter()
    env.run()
    wall = time.perf_counter() - start
    print(json.dumps({**counts, "wall_seconds": round(wall, 4),
                      "requests_per_second": round(counts["requests"] / wall)}))


if __name__ == "__main__":
    main()
