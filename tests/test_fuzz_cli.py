"""Fuzzing `check`, `render` and `compose --prime` with mangled real-world tabs, gzip and Guitar Pro files.

Each example is one mangled file, handed to a driver process that runs the three commands on it (the
driver is started once: torch and the model load once). The driver reports each command's exit code,
or "traceback" for an exception that is not a clean exit, or "hang" when a command runs past its alarm;
and its peak RSS. The promise: exit 0 or 1, never a traceback, no hang, RSS under 600 MB.
"""

from __future__ import annotations

import gzip
import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
REALWORLD = REPO.parent / "shared" / "realworld-tabs"
TABS = sorted(p for p in REALWORLD.glob("*.txt")) if REALWORLD.is_dir() else []
ALARM = 20  # seconds one command may take before the driver calls it a hang (generous: shared CPUs)
RSS_LIMIT_MB = 600
# TABGEN_FUZZ_EXAMPLES=500 for a longer hunt; CI runs a few (each takes up to a second or so)

DRIVER = r"""
import json, os, resource, signal, sys, time, traceback
from tabgen import cli

reports = os.fdopen(os.dup(1), "w")  # the commands' own output goes to /dev/null, the reports here
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)

class Hang(Exception):
    pass

def on_alarm(signum, frame):
    raise Hang

signal.signal(signal.SIGALRM, on_alarm)

def run(args, alarm):
    signal.alarm(alarm)
    try:
        cli.app(args, standalone_mode=True)
        return 0
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    except Hang:
        return "hang"
    except BaseException:
        return "traceback: " + traceback.format_exc().strip().splitlines()[-1]
    finally:
        signal.alarm(0)

def bars_of(path):
    from tabgen.sources import load_piece
    try:
        return len(load_piece(path)[0].bars)
    except Exception:
        return 0

alarm = int(sys.argv[1])
for line in sys.stdin:
    path, out = line.rstrip("\n").split("\t")
    t0 = time.perf_counter()
    codes = {
        "check": run(["check", path], alarm),
        "render": run(["render", path, "--midi", out + ".mid", "--musicxml", out + ".musicxml"], alarm),
    }
    bars = min(bars_of(path) + 2, 1024)
    codes["compose"] = run(["compose", "--prime", path, "--bars", str(bars), "--candidates", "1"], alarm)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"codes": codes, "seconds": time.perf_counter() - t0, "rss_mb": rss}), file=reports)
    reports.flush()
"""


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    env = {**os.environ, "PYTHONPATH": str(REPO), "TABGEN_CACHE": str(tmp_path_factory.mktemp("cache"))}
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(ALARM)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
    )
    yield proc
    proc.stdin.close()
    proc.wait(30)


@pytest.fixture(scope="module")
def gp_sources(tmp_path_factory):
    """Guitar Pro files made from real-world tabs, to mangle as bytes."""
    from tabgen.render.gp import gp5_bytes
    from tabgen.sources import load_piece

    return [gp5_bytes(load_piece(p)[0]) for p in TABS[:3]]


HTMLISH = [b"<pre>", b"</pre>", b"<a", b"<html>", b"&#", b"&amp;", b"\x00", b"\xff\xfe", b"\r", b"|", b"-"]

mangles = st.lists(
    st.one_of(
        st.tuples(st.just("truncate"), st.floats(0, 1)),
        st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 400)),
        st.tuples(st.just("repeat"), st.floats(0, 1), st.integers(1, 400), st.integers(2, 30)),
        st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=40)),
        st.tuples(st.just("token"), st.floats(0, 1), st.sampled_from(HTMLISH), st.integers(1, 500)),
    ),
    max_size=4,
)


def mangle(data: bytes, ops) -> bytes:
    for op in ops:
        at = int(op[1] * len(data))
        if op[0] == "truncate":
            data = data[:at]
        elif op[0] == "delete":
            data = data[:at] + data[at + op[2] :]
        elif op[0] == "repeat":
            data = data[:at] + data[at : at + op[2]] * op[3] + data[at:]
        elif op[0] == "insert":
            data = data[:at] + op[2] + data[at:]
        else:
            data = data[:at] + op[2] * op[3] + data[at:]
    return data


@pytest.mark.skipif(not TABS, reason="../shared/realworld-tabs not present")
@settings(
    max_examples=int(os.environ.get("TABGEN_FUZZ_EXAMPLES", "16")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(["text", "gzip", "gzip-upper", "gp5"]),
    source=st.integers(0, 2**16),
    ops=mangles,
)
def test_mangled_inputs_never_traceback_hang_or_blow_up(driver, gp_sources, tmp_path, kind, source, ops):
    if kind == "gp5":
        data, name = mangle(gp_sources[source % len(gp_sources)], ops), "song.gp5"
    else:
        data = mangle(TABS[source % len(TABS)].read_bytes(), ops)
        data, name = {
            "text": (data, "tab.txt"),
            "gzip": (gzip.compress(data), "tab.txt.gz"),
            "gzip-upper": (mangle(gzip.compress(data), ops[:1]), "TAB.TAB.GZ"),  # broken gzip too
        }[kind]
    folder = tmp_path / f"ex{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    path = folder / name
    path.write_bytes(data)
    driver.stdin.write(f"{path}\t{folder / 'out'}\n")
    driver.stdin.flush()
    ready, _, _ = select.select([driver.stdout], [], [], 3 * ALARM + 30)
    assert ready, f"the driver did not answer for {path}"
    report = json.loads(driver.stdout.readline())
    for command, code in report["codes"].items():
        assert code in (0, 1), f"{command} on {name} ({kind}, {ops}): {code}"
    assert report["rss_mb"] < RSS_LIMIT_MB
