"""`make bench`: run every bench/bench_*.py and print their figures.

Each benchmark gets the shared data folder (default ../shared/data, or BENCH_DATA): as
`--data PATH` when its --help offers that option, or as the argument listed in ARGS below;
one that needs an argument not listed here is skipped and said so. A missing data folder
skips the benchmarks that need it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = Path(os.environ.get("BENCH_DATA") or ROOT.parent / "shared" / "data")

# Benchmarks with a required positional argument: what to pass, relative to the data folder.
ARGS = {
    "bench_paths.py": ["{data}/ccadb/all_certificate_pems"],
}


def _arguments(script: Path) -> list[str] | None:
    if script.name in ARGS:
        return [a.format(data=DATA) for a in ARGS[script.name]]
    help_text = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120
    ).stdout
    if "--data" in help_text:
        return ["--data", str(DATA)]
    usage = help_text.split("\n\n", 1)[0]
    # argparse shows optional arguments in [brackets]; anything else is required.
    required = [w for w in re.sub(r"\[[^\]]*\]", "", usage).split()[2:] if w and not w.startswith("-h")]
    return [] if not required else None


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    failed = 0
    for script in scripts:
        args = _arguments(script)
        print(f"== {script.name} {' '.join(args or [])}", flush=True)
        if args is None:
            print("   skipped: it needs arguments bench/run.py does not know", flush=True)
            continue
        if not DATA.exists():
            print(f"   note: no data folder at {DATA}", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(script), *args], cwd=ROOT)
        print(f"== {script.name}: exit {result.returncode} in {time.perf_counter() - start:.1f} s\n", flush=True)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
