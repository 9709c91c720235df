"""Where a py-spy profile's samples went: the functions with the most samples, inclusive and own.

    python -m bench.profile_summary PROFILE.txt [--top 25] [--match practicegen]

PROFILE.txt is py-spy's raw output (`--format raw`, as `bench_llm_jobs.py --profile` writes):
one line per distinct stack, frames separated by `;`, then its sample count. A function's
inclusive share counts every sample with it anywhere on the stack (once per sample), its own
share the samples with it on top. `--match` keeps the inclusive list to frames naming it.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def summarise(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    total, inclusive, own = 0, Counter[str](), Counter[str]()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        frames = [frame.strip() for frame in stack.split(";") if frame.strip()]
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        if frames:
            own[frames[-1]] += samples
    return total, inclusive, own


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="")
    args = parser.parse_args()
    total, inclusive, own = summarise(args.profile)
    print(f"{total} samples")
    print("inclusive:")
    shown = [(f, n) for f, n in inclusive.most_common() if args.match in f][: args.top]
    for frame, samples in shown:
        print(f"  {100 * samples / total:5.1f}%  {frame}")
    print("own:")
    for frame, samples in own.most_common(args.top):
        print(f"  {100 * samples / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
