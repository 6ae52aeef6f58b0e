"""Where to run: CUDA, then Apple's MPS, then the CPU, unless forced; and how many CPU threads to use."""

from __future__ import annotations

import os

import torch

from tabgen.errors import InputError


def choose_device(requested: str | None = None, local_rank: int = 0) -> torch.device:
    """`requested`: auto/None, cpu, cuda, cuda:N or mps. Under torchrun each rank takes its own GPU."""
    req = (requested or "auto").strip().lower()
    if req == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(req)
    except RuntimeError:
        raise InputError(f"unknown device {requested!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError("--device cuda asked, but this PyTorch sees no CUDA GPU")
        if dev.index is None:
            dev = torch.device("cuda", local_rank % torch.cuda.device_count())
    elif dev.type == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise InputError("--device mps asked, but MPS is not available here")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"unsupported device {requested!r}; use auto, cpu, cuda, cuda:N or mps")
    return dev


def cpu_threads() -> int:
    """The cores this process may run on (respects taskset / cgroup affinity, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def free_cpu_threads() -> int:
    """The cores available minus those other processes keep busy (whole cores of the 1-minute load average),
    at least 1.

    OpenMP threads spin while they wait for each other: on cores shared with busy processes, 2 threads on
    2 cores trained 14x slower than 1 thread here, while on idle cores 2 threads are about 1.8x faster."""
    cores = cpu_threads()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows
        return cores
    # a core counts as taken only under a whole core's worth of load: stray activity (a load of 0.6 on an
    # idle machine) must not halve the threads, which costs about 1.8x here
    return max(1, min(cores, cores - int(busy)))


def under_torchrun() -> bool:
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ and "LOCAL_RANK" in os.environ
