"""Import speed and memory for a 1,000,000-row CSV, and the same file imported twice.

Generates the CSV in a temporary folder (id, text, author, time, url, platform, reach;
Dutch and English texts, a few emoji), then runs, each in a fresh process so that its
peak memory (max RSS) is its own, on a fresh SQLite database:

1. baseline: ``csv.reader`` straight into ``sqlite3.executemany`` (no mapping, no dedup,
   no batches: the floor for Python on this machine);
2. ``klopt mentions import`` of the file (streaming, in committed chunks);
3. the same import again: every row must be a duplicate, none new;
4. the same file as a ``file`` source (``klopt sources sync``): pages with a cursor.

    python benchmarks/imports.py [--rows 1000000] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TEXTS = [
    "Mijn pakket is na drie dagen nog steeds niet bezorgd. Wat is er aan de hand?",
    "Binnen 24 uur in huis, zoals beloofd. Top service! 🚲",
    "Klantenservice reageert niet op mijn mail van vorige week.",
    "My order arrived the next day, great job @voorbeeldbv",
    "Returns are not free anymore? That is not what your website says.",
    "Reparatie duurde vier weken in plaats van drie. Jammer.",
    "Vriendelijke monteur, snel geholpen in de winkel in Utrecht 👍",
    "Still waiting for a refund after 30 days...",
]


def generate(path: Path, rows: int) -> None:
    """The CSV: one header and ``rows`` rows, seeded so every run is the same file."""
    rng = random.Random(1952)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text", "author", "created_at", "url", "platform", "reach"])
        for n in range(rows):
            day = 1 + n % 28
            writer.writerow(
                [
                    n,
                    f"{rng.choice(TEXTS)} #{n}",
                    f"klant{rng.randrange(50_000)}",
                    f"2026-10-{day:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
                    f"https://x.com/klant/status/{n}",
                    rng.choice(["x", "mastodon", "bluesky"]),
                    rng.randrange(10_000),
                ]
            )


BASELINE = """
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("create table post (id text, text text, author text, created_at text, url text,"
           " platform text, reach integer)")
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    reader = csv.reader(handle)
    next(reader)
    batch = []
    for row in reader:
        batch.append(row)
        if len(batch) == 1000:
            db.executemany("insert into post values (?,?,?,?,?,?,?)", batch)
            db.commit()
            batch = []
    db.executemany("insert into post values (?,?,?,?,?,?,?)", batch)
    db.commit()
"""


# Each child reports its own peak memory (max RSS) when it exits.
PEAK = (
    "import atexit, resource, sys; atexit.register(lambda: sys.stderr.write("
    "f'PEAK {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))"
)
KLOPT = [
    sys.executable,
    "-c",
    PEAK + "; import runpy; sys.argv[0] = 'klopt'; runpy.run_module('klopt', run_name='__main__')",
]


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Seconds, the child's own peak memory in MiB, and its output."""
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[-4:])} failed:\n{done.stdout}\n{done.stderr}")
    peaks = [line for line in done.stderr.splitlines() if line.startswith("PEAK ")]
    peak = int(peaks[-1].split()[1]) / 1024 if peaks else float("nan")
    return seconds, peak, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    klopt = KLOPT
    results: dict[str, Any] = {"rows": options.rows, "python": platform.python_version()}
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        data = base / "mentions.csv"
        start = time.perf_counter()
        generate(data, options.rows)
        size = data.stat().st_size / 2**20
        took = time.perf_counter() - start
        print(f"generated {options.rows:,} rows ({size:.0f} MiB) in {took:.0f} s")
        env = {"PATH": "/usr/bin:/bin", "KLOPT_HOME": str(base / "home"), "KLOPT_USER": "bench"}

        def klopt_env(name: str) -> dict[str, str]:
            return {**env, "KLOPT_DB": f"sqlite:///{base / name}"}

        steps: list[tuple[str, list[str], dict[str, str] | None]] = [
            (
                "baseline csv -> sqlite3",
                [sys.executable, "-c", PEAK + "\n" + BASELINE, str(data), str(base / "b.db")],
                None,
            ),
        ]
        mapping = [
            "--id-column",
            "id",
            "--time-column",
            "created_at",
            "--author-column",
            "author",
            "--url-column",
            "url",
            "--platform-column",
            "platform",
            "--reach-column",
            "reach",
        ]
        run([*klopt, "init", "Bench"], klopt_env("k.db"))
        run([*klopt, "init", "Bench"], klopt_env("s.db"))
        run(
            [
                *klopt,
                "sources",
                "add",
                "file",
                "export",
                str(data),
                "--id-column",
                "id",
                "--time-column",
                "created_at",
                "--author-column",
                "author",
                "--url-column",
                "url",
            ],
            klopt_env("s.db"),
        )
        steps += [
            (
                "klopt mentions import",
                [*klopt, "mentions", "import", str(data), *mapping],
                klopt_env("k.db"),
            ),
            (
                "same file again",
                [*klopt, "mentions", "import", str(data), *mapping],
                klopt_env("k.db"),
            ),
            (
                "klopt sources sync (file)",
                [*klopt, "sources", "sync", "export", "--no-judge"],
                klopt_env("s.db"),
            ),
        ]
        baseline_rate = None
        print(f"{'step':28} {'seconds':>8} {'rows/s':>9} {'× baseline':>10} {'peak MiB':>9}")
        for name, args, step_env in steps:
            seconds, peak, out = run(args, step_env)
            rate = options.rows / seconds
            baseline_rate = baseline_rate or rate
            print(f"{name:28} {seconds:8.1f} {rate:9,.0f} {rate / baseline_rate:10.2f} {peak:9.0f}")
            last = out.strip().splitlines()[-1] if out.strip() else ""
            if last:
                print(f"  {last}")
            results[name] = {
                "seconds": seconds,
                "rows_per_s": rate,
                "peak_mib": peak,
                "output": last,
            }
    if options.json:
        options.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
