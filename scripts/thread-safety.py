#!/usr/bin/env python3
"""Checks every translation unit of every target with clang-14's
-Wthread-safety analysis, as errors, so that the ABSL_GUARDED_BY and
ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations hold (GCC ignores them).

    scripts/thread-safety.py [build/compile_commands.json]

Each compile command of the GCC build is run again with clang++-14 and
-fsyntax-only (parsing and semantic analysis, where the analysis runs; no
code generation), in parallel. Generated protobuf code is skipped, and so
are the tests and benchmarks (tests/, bench/): the annotations guard the
library's, the daemon's and the examples' locking, and checking the ~60 test
and benchmark files (each parsing gtest and gRPC) would double the check's
time in `make test`. Exits 1 and prints clang's diagnostics when any file
has a warning.
"""
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys

CLANG = os.environ.get("CLANGXX", "clang++-14")
FLAGS = ["-fsyntax-only", "-Wthread-safety", "-Wthread-safety-beta", "-Werror"]


def clang_command(entry):
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out = [CLANG]
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a == "-c":
            continue
        out.append(a)
    return out + FLAGS


def check(entry):
    proc = subprocess.run(clang_command(entry), cwd=entry["directory"], capture_output=True,
                          text=True)
    return entry["file"], proc.returncode, proc.stderr


SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def Checked(path):
    rel = os.path.relpath(os.path.abspath(path), SOURCE_DIR)
    return not (rel.startswith("tests/") or rel.startswith("bench/"))


def main():
    db = sys.argv[1] if len(sys.argv) > 1 else "build/compile_commands.json"
    with open(db) as f:
        entries = [e for e in json.load(f) if "/gen/" not in e["file"] and Checked(e["file"])]
    # One check per file: a file compiled into several targets is checked once.
    seen, unique = set(), []
    for e in entries:
        if e["file"] not in seen:
            seen.add(e["file"])
            unique.append(e)
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for path, rc, err in pool.map(check, unique):
            if rc != 0:
                failed += 1
                sys.stderr.write(err)
    print(f"thread-safety: {len(unique)} files checked with {CLANG} -Wthread-safety -Werror, "
          f"{failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
