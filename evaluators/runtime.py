"""The numerical run-time the reference scores depend on: the OpenBLAS kernel and the library versions.

Why this module exists: the selection-speech reference values were printed on a machine whose OpenBLAS
used its AVX2 ("Haswell") kernels. scikit-learn fits `LogisticRegression` in float32 when the features are
float32 (they are: the parquet files hold float32), and the float32 BLAS kernels for AVX-512 ("SkylakeX")
round differently. The soft-voting ensemble then flips near-tied predictions: on the public en_25 case seed
11 gives 0.475442 under SkylakeX and 0.473812 (the reference) under Haswell. OpenBLAS picks its kernel when
the library is loaded, i.e. at the first `import numpy`, so the choice has to be made before that:
`pin_openblas_kernel()` runs when the `evaluators` package is imported and sets `OPENBLAS_CORETYPE` if
numpy is not loaded yet. Processes that import numpy earlier must set the variable themselves (worker
environment, CI script); `blas_problems()` tells whether the loaded kernel is the reference one.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

REFERENCE_OPENBLAS_CORETYPE = "Haswell"
"""The OpenBLAS kernel family the reference values were computed with (AMD Zen selects the same kernels)."""

_CORETYPE_VARIABLE = "OPENBLAS_CORETYPE"
_PINNED_LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "pyarrow")


def _cpu_flags() -> set[str]:
    """The CPU feature flags of the first processor in /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def cpu_supports_reference_kernel() -> bool:
    """True when the CPU can run OpenBLAS's Haswell kernels (x86-64 with AVX2 and FMA)."""
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        return False
    return {"avx2", "fma"} <= _cpu_flags()


def pin_openblas_kernel() -> bool:
    """Select the reference OpenBLAS kernel for this process if it is still possible; return True if set.

    Does nothing when numpy is already imported (too late: the kernel is chosen at load time), when the
    variable is already set (an explicit choice wins), or when the CPU cannot run the kernel (forcing it
    there would crash with an illegal instruction).
    """
    if "numpy" in sys.modules or _CORETYPE_VARIABLE in os.environ:
        return False
    if not cpu_supports_reference_kernel():
        return False
    os.environ[_CORETYPE_VARIABLE] = REFERENCE_OPENBLAS_CORETYPE
    return True


def loaded_blas() -> list[dict[str, str]]:
    """The BLAS libraries loaded in this process, as threadpoolctl reports them (loads numpy)."""
    import numpy  # noqa: F401  # the BLAS is only visible once numpy has loaded it
    import threadpoolctl

    found = threadpoolctl.threadpool_info()
    return [
        {key: str(info.get(key, "")) for key in ("internal_api", "architecture", "version", "num_threads")}
        for info in found
        if info.get("user_api") == "blas"
    ]


def blas_problems() -> list[str]:
    """Human-readable reasons why scores computed here may differ from the reference values (empty if none).

    Only OpenBLAS on x86-64 is checked; other platforms cannot reproduce the reference bit for bit anyway
    and are reported once.
    """
    libraries = loaded_blas()
    problems: list[str] = []
    for library in libraries:
        if library["internal_api"] != "openblas":
            problems.append(f"BLAS {library['internal_api']!r} is not OpenBLAS: scores may differ slightly.")
        elif library["architecture"].lower() != REFERENCE_OPENBLAS_CORETYPE.lower():
            problems.append(
                f"OpenBLAS uses the {library['architecture']!r} kernels, the reference values were "
                f"computed with {REFERENCE_OPENBLAS_CORETYPE!r}: set "
                f"{_CORETYPE_VARIABLE}={REFERENCE_OPENBLAS_CORETYPE} in the environment before numpy "
                "is imported."
            )
    return problems


@functools.cache
def _library_versions() -> tuple[tuple[str, str], ...]:
    """Python's and the pinned libraries' versions: fixed for the life of a process (an upgrade takes a restart),
    so the packages' metadata is read once, not on every evaluation."""
    versions = [("python", platform.python_version())]
    for name in _PINNED_LIBRARIES:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            versions.append((name, "not installed"))
    return tuple(versions)


def environment_fingerprint() -> dict[str, str]:
    """Versions of Python, the pinned numerical libraries and the BLAS kernel, to store with every score. The
    BLAS is looked up each time: which one is loaded can change after the first import of numpy."""
    fingerprint = dict(_library_versions())
    fingerprint["blas"] = ", ".join(
        f"{lib['internal_api']} {lib['version']} {lib['architecture']}" for lib in loaded_blas()
    )
    return fingerprint
