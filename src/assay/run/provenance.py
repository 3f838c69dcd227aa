"""What a run records about where it ran: package versions and the machine."""
from __future__ import annotations

import importlib.metadata as md
import os
import platform
import socket

PACKAGES = ("assay", "numpy", "pandas", "scikit-learn", "scipy", "pymatgen", "matminer", "lightgbm",
            "xgboost", "torch", "optuna", "matplotlib", "joblib", "distributed", "chgnet", "cloudpickle")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def machine_info() -> dict:
    return {"host": socket.gethostname(), "platform": platform.platform(),
            "processor": platform.machine(), "cpus": os.cpu_count()}
