"""How the build scales: wall time, stories per minute and peak memory, by engine, workers and corpus size.

A synthetic corpus is cut from the largest single-pair development set in
../shared/benchmarks (hunalign's Hungarian-English magazine and novel; a
dataset holds one language pair): stories of 30-80 sentences, cut at gold bead
boundaries, each side written as a scraped article would be (paragraphs of a
few sentences). Every other story gets a comparable English document: half its
own English sentences and as many from another story, shuffled, so the linking
stage has real work. When N exceeds what the set holds, the cuts start again at
another offset, so no two stories are the same text.

Each build is a fresh ``diptych build`` process:

* cold: an empty cache of its own, so every story embeds all it needs and runs the
  token model (what a first build pays, writing the cache included);
* warm: a full cache (the one a cold local build of the same corpus left, or one
  filled beforehand, untimed), so the figure is the part that is not embedding
  (segmentation, alignment search, framing, linking, writing).

A cold build costs several times a warm one; ``--cold-runs`` and ``--cold-sizes``
limit the cold builds to some of the runs and sizes (by default all of them).

Peak memory is sampled every 0.1 s over the build's whole process tree (the
driver, its worker processes, Ray's raylet and workers): the sum of their RSS,
which counts shared model pages once per process, so it overstates.

    python scripts/bench_build.py                      # N = 50, 100, 200; local 1 and 2 workers; ray 2
    python scripts/bench_build.py --sizes 20 --runs local1 --modes warm   # a quick look
    python scripts/bench_build.py --cold-sizes 50      # cold at N = 50 only; warm at every size
    python scripts/bench_build.py --runs local2 ray2 rayup2 --modes warm   # Ray started by each build, or once
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

RUNS = {"local1": ("local", 1), "local2": ("local", 2), "ray1": ("ray", 1), "ray2": ("ray", 2),
        "rayup2": ("ray", 2)}  # rayup: on a Ray instance started once (`ray start`), not by each build


def _cuts(doc, low: int, high: int, rng: random.Random, offset: int):
    """Story-sized windows of a gold-aligned document, cut between beads: (src lines, tgt lines)."""
    beads = doc.gold[offset:]
    k = 0
    while k < len(beads):
        want = rng.randint(low, high)
        j, n = k, 0
        while j < len(beads) and n < want:
            n += max(len(beads[j].src), len(beads[j].tgt))
            j += 1
        src = [doc.src[i] for b in beads[k:j] for i in b.src]
        tgt = [doc.tgt[i] for b in beads[k:j] for i in b.tgt]
        if len(src) >= low // 2 and len(tgt) >= low // 2:
            yield src, tgt
        k = j


def _article(lines: list[str], rng: random.Random) -> str:
    """Sentences as paragraphs of one to four, blank lines between, as a scraped page reads."""
    paras, k = [], 0
    while k < len(lines):
        n = rng.randint(1, 4)
        paras.append(" ".join(lines[k : k + n]))
        k += n
    return "\n\n".join(paras) + "\n"


def make_corpus(root: Path, n: int, seed: int = 13) -> Path:
    """A corpus folder of ``n`` stories (see the module docstring); the same ``n`` and seed give the same bytes."""
    from devsets import load_set

    docs = load_set("hunalign")
    rng = random.Random(seed)
    stories: list[tuple[list[str], list[str]]] = []
    offset = 0
    while len(stories) < n:
        for doc in docs:
            stories.extend(_cuts(doc, 30, 80, rng, offset))
        offset += 7  # the next pass cuts elsewhere
    stories = stories[:n]
    root.mkdir(parents=True, exist_ok=True)
    manifest = ["# synthetic corpus from hunalign's gold alignments (scripts/bench_build.py)\n"]
    for k, (hu, en) in enumerate(stories):
        rng = random.Random(seed * 100_003 + k)  # per story, so a corpus of N stories begins the one of 2N
        sid = f"s{k:04d}"
        (root / f"{sid}.hu.txt").write_text(_article(hu, rng), "utf-8")
        (root / f"{sid}.en.txt").write_text(_article(en, rng), "utf-8")
        manifest.append(f'[[stories]]\nid = "{sid}"\n\n')
        for lang in ("hu", "en"):
            manifest.append(f'[[documents]]\nid = "{sid}-{lang}"\nfile = "{sid}.{lang}.txt"\nlang = "{lang}"\n'
                            f'story = "{sid}"\nrole = "parallel"\n\n')
        if k % 2 == 1:  # another outlet: half of this story's English, half of the previous one's
            other = stories[k - 1][1]
            mix = rng.sample(en, len(en) // 2) + rng.sample(other, len(other) // 2)
            rng.shuffle(mix)
            (root / f"{sid}.cmp.txt").write_text(_article(mix, rng), "utf-8")
            manifest.append(f'[[documents]]\nid = "{sid}-cmp"\nfile = "{sid}.cmp.txt"\nlang = "en"\n'
                            f'story = "{sid}"\nrole = "comparable"\noutlet = "synthetic"\n\n')
    (root / "manifest.toml").write_text("".join(manifest), "utf-8")
    return root


def _tree_rss(pid: int) -> int:
    """Bytes of RSS summed over ``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(d))
            rss[int(d)] = int(parts[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def run_build(corpus: Path, out: Path, engine: str, workers: int, cache: Path, address: str | None = None) -> dict:
    exe = Path(sys.executable).with_name("diptych")
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "pipeline.cli"]),
           "build", str(corpus), "-o", str(out), "--quiet", "--overwrite", "--engine", engine,
           "--workers", str(workers), *(["--ray-address", address] if address else [])]
    env = dict(os.environ, DIPTYCH_CACHE=str(cache), RAY_USAGE_STATS_ENABLED="0")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    t.join()
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({' '.join(cmd)}): {err.strip().splitlines()[-1] if err.strip() else proc.returncode}")
    return {"wall": wall, "peak_mib": peak[0] / 2**20}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=["local1", "local2", "ray2"])
    ap.add_argument("--modes", nargs="+", choices=("cold", "warm"), default=["cold", "warm"])
    ap.add_argument("--cold-runs", nargs="+", choices=sorted(RUNS), help="the runs built cold (default: --runs)")
    ap.add_argument("--cold-sizes", nargs="+", type=int, help="the sizes built cold (default: --sizes)")
    ap.add_argument("--keep", type=Path, help="build under this folder and keep it (default: a temporary one)")
    args = ap.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_build-"))
    cold_runs = [r for r in args.runs if r in (args.cold_runs or args.runs)] if "cold" in args.modes else []
    results: dict[tuple, dict] = {}

    def timed(n: int, run: str, mode: str, corpus: Path, cache: Path) -> None:
        engine, workers = RUNS[run]
        r = run_build(corpus, work / f"out-{n}-{run}-{mode}", engine, workers, cache,
                      "auto" if run.startswith("rayup") else None)
        shutil.rmtree(work / f"out-{n}-{run}-{mode}", ignore_errors=True)
        r["spm"] = 60 * n / r["wall"]
        results[(n, run, mode)] = r
        print(f"N={n:4d} {run:7s} {mode}: {r['wall']:7.1f} s  {r['spm']:6.1f} stories/min  "
              f"peak {r['peak_mib']:6.0f} MiB", flush=True)

    ray_cli = str(Path(sys.executable).with_name("ray"))
    rayup = any(r.startswith("rayup") for r in args.runs)
    if rayup:  # its processes are not in the builds' peak memory
        subprocess.run([ray_cli, "start", "--head", "--num-cpus", "2", "--include-dashboard=false"], check=True,
                       env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0"), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    try:
        for n in args.sizes:
            corpus = make_corpus(work / f"corpus-{n}", n)
            warm = work / "cache"  # shared by the sizes: the stories of a smaller N are the first of a larger one
            for run in cold_runs if n in (args.cold_sizes or args.sizes) else []:
                cache = work / f"cache-{n}-{run}"
                shutil.rmtree(cache, ignore_errors=True)
                timed(n, run, "cold", corpus, cache)
                if RUNS[run][0] == "local" and not warm.exists():
                    cache.rename(warm)  # a full cache for the warm builds
                else:
                    shutil.rmtree(cache, ignore_errors=True)
            if "warm" in args.modes:
                run_build(corpus, work / "fill", "local", 2, warm)  # untimed: embeds only what is not there yet
                for run in args.runs:
                    timed(n, run, "warm", corpus, warm)
    finally:
        if rayup:
            subprocess.run([ray_cli, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print("\n| N | run | mode | wall s | stories/min | peak MiB (process tree) |\n| --- | --- | --- | --- | --- | --- |")
    for (n, run, mode), r in sorted(results.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):
        print(f"| {n} | {run} | {mode} | {r['wall']:.1f} | {r['spm']:.1f} | {r['peak_mib']:.0f} |")
    print()
    sizes = sorted(args.sizes)
    for mode in args.modes:
        for run in args.runs:
            if not all((n, run, mode) in results for n in sizes):
                continue
            if 100 in sizes and 200 in sizes:
                ratio = results[(200, run, mode)]["wall"] / results[(100, run, mode)]["wall"]
                print(f"{mode} {run}: 200 stories cost {ratio:.2f}x 100 (target <= 2.3)")
            peaks = [results[(n, run, mode)]["peak_mib"] for n in sizes]
            print(f"{mode} {run}: peak memory {' / '.join(f'{p:.0f}' for p in peaks)} MiB at N = "
                  f"{' / '.join(map(str, sizes))}")
        for n in sizes:
            if (n, "local1", mode) in results and (n, "local2", mode) in results:
                sp = results[(n, "local1", mode)]["wall"] / results[(n, "local2", mode)]["wall"]
                print(f"{mode} N={n}: 2 workers are {sp:.2f}x as fast as 1" + (" (target >= 1.6 warm)" if mode == "warm" else ""))
            for ray, (engine, w) in RUNS.items():
                if engine == "ray" and (n, ray, mode) in results and (n, f"local{w}", mode) in results:
                    over = results[(n, ray, mode)]["wall"] / results[(n, f"local{w}", mode)]["wall"] - 1
                    print(f"{mode} N={n}: {ray} takes {over:+.1%} against local with {w} worker(s) (target < +15%)")
    print(f"\nmachine: {os.cpu_count()} CPUs; load average before the last build: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
