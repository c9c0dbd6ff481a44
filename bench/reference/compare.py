#!/usr/bin/env python3
"""Side-by-side training benchmark: this implementation and the authors' PyTorch code on the
same data and config, one after the other on this machine; prints both and their ratio.

  python3 bench/reference/compare.py --reference PATH --data FILE [--batches N] [--rounds R]
                                     [model flags]

Model and training flags are the reference's (e.g. --expire-span --nlayers 4 --hid-sz 256 ...).
With --rounds R the two run alternately R times each (ours, reference, ours, ...) and the
medians are printed, with the median of the per-round ratios: this machine's speed drifts by
tens of percent over minutes, which one run of each cannot tell from a real difference.
Run from the repository root after `npm ci`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out[out.index("{"):])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--batches", default="20")
    parser.add_argument("--warmup", default="3")
    parser.add_argument("--threads", default="2")
    parser.add_argument("--max-bytes", default="2000000")
    parser.add_argument("--rounds", type=int, default=1)
    ours, flags = parser.parse_known_args()

    # Both read the same bytes: the first --max-bytes of --data.
    sliced = os.path.join(ROOT, "runs", "bench-data.bin")
    os.makedirs(os.path.dirname(sliced), exist_ok=True)
    with open(ours.data, "rb") as f, open(sliced, "wb") as out:
        out.write(f.read(int(ours.max_bytes)))

    common = ["--batches", ours.batches, "--warmup", ours.warmup, "--threads", ours.threads]
    mine_cmd = ["node", os.path.join(ROOT, "dist", "src", "cli", "main.js"), "bench", "train", "--data", sliced, "--json", *common, *flags]
    theirs_cmd = [sys.executable, os.path.join(HERE, "run_reference.py"), "--reference", ours.reference, "--data", sliced,
                  "--max-bytes", ours.max_bytes, *common, *flags]
    rounds = [(run(mine_cmd), run(theirs_cmd)) for _ in range(max(1, ours.rounds))]
    median = lambda values: statistics.median(values)
    speed = [m["tokensPerSecond"] / t["tokensPerSecond"] for m, t in rounds]
    mine = {k: median([m[k] for m, _ in rounds]) for k in ("tokensPerSecond", "msPerBatch", "peakRssMiB", "shareOfPeak")}
    theirs = {k: median([t[k] for _, t in rounds]) for k in ("tokensPerSecond", "msPerBatch", "peakRssMiB")}
    kept = sum(rounds[0][0]["keptMemories"]) / len(rounds[0][0]["keptMemories"])
    cache = sum(rounds[0][1]["cacheSizes"]) / len(rounds[0][1]["cacheSizes"])
    print(f"config: {' '.join(flags)}" + (f" ({len(rounds)} rounds, medians)" if len(rounds) > 1 else ""))
    print(f"{'':24}{'expire-span (ours)':>20}{'reference':>14}{'ratio':>10}")
    print(f"{'tokens/s':24}{mine['tokensPerSecond']:>20,.0f}{theirs['tokensPerSecond']:>14,.0f}{median(speed):>9.2f}x")
    if len(rounds) > 1:
        print(f"{'  ratio per round':24}{', '.join(f'{r:.2f}' for r in speed):>44}")
    print(f"{'ms per batch':24}{mine['msPerBatch']:>20.0f}{theirs['msPerBatch']:>14.0f}")
    print(f"{'peak RSS (MiB)':24}{mine['peakRssMiB']:>20.0f}{theirs['peakRssMiB']:>14.0f}{mine['peakRssMiB'] / theirs['peakRssMiB']:>9.2f}x")
    print(f"{'memories per stream':24}{kept:>20.0f}{cache:>14.0f}")
    print(f"{'share of fp32 peak':24}{100 * mine['shareOfPeak']:>19.0f}%")
    blas = rounds[0][1].get("blas", [])
    print(f"reference BLAS: {', '.join(blas) or 'none found by name (MKL, or statically linked)'}")
    # Debian keeps netlib's unoptimised BLAS in .../blas/; with it the reference runs several times slower.
    if any("/blas/" in path for path in blas):
        print("warning: the reference loaded netlib's reference BLAS, not an optimised one: install"
              " libopenblas0-pthread (and let libblas.so.3 point to it) and run again for a fair ratio")

if __name__ == "__main__":
    main()
