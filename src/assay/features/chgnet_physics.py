"""CHGNet physics by finite differences and strain: Gamma-point frequencies and the equation of state.

Pure functions of a loaded model (see :mod:`assay.features.pretrained` for the featuriser and
the model loading): the 6N displaced force evaluations, the mass-weighted dynamical matrix
with the acoustic sum rule, and the Birch-Murnaghan fit, plus ``torch_threads``, which every
CHGNet call runs under.
"""
from __future__ import annotations

import contextlib
import copy
import ctypes
import math
import warnings

import numpy as np

__all__ = ["torch_threads", "displaced_forces", "fit_birch_murnaghan", "energy_volume", "frequencies_of",
           "EV_A3_TO_GPA", "CM1_PER_SQRT_EV_A2_AMU"]

EV_A3_TO_GPA = 160.21766208
# nu[cm^-1] = CM1_PER_SQRT_EV_A2_AMU * sqrt(eigenvalue[eV / (A^2 amu)])
CM1_PER_SQRT_EV_A2_AMU = math.sqrt(1.602176634e-19 / (1e-20 * 1.66053906660e-27)) / (2 * math.pi * 2.99792458e10)


@contextlib.contextmanager
def torch_threads(n: int):
    """Run torch with ``n`` intra-op threads, then restore. Why: on a shared, busy CPU, OpenMP
    with 2 threads was 5-20x slower than 1 thread for CHGNet's small batches (measured)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _predict(model, graphs, task: str, batch_size: int, **kw) -> list[dict]:
    if not graphs:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CHGNet warns about tensor construction on every batch
        out = model.predict_graph(list(graphs), task=task, batch_size=batch_size, **kw)
    return [out] if isinstance(out, dict) else out


def _displacements(structure, delta: float):
    """The 6N fractional-coordinate shifts, in the order ``_dynamical_matrix`` expects: each atom
    moved by +-delta (A) along x, y, z."""
    inv = np.linalg.inv(structure.lattice.matrix)
    n = len(structure)
    for i in range(n):
        for a in range(3):
            for sign in (1.0, -1.0):
                d = np.zeros((n, 3))
                d[i, a] = sign * delta
                yield d @ inv


def _iter_displaced(graph, structure, delta: float):
    """6N graphs (each atom moved by +-delta A along x, y, z; topology shared with ``graph``),
    made one at a time so only a batch of them is ever alive."""
    import torch

    frac = graph.atom_frac_coord
    for shift in _displacements(structure, delta):
        g = copy.copy(graph)
        g.atom_frac_coord = frac + torch.as_tensor(shift, dtype=frac.dtype)
        yield g


def _release_memory() -> None:
    """Hand freed heap pages back to the OS (glibc only; a no-op elsewhere).

    Why: a CHGNet force batch allocates hundreds of MB in many pieces; glibc keeps the freed
    pages, so without this the RSS of a long run ratchets up to its worst batch and stays there.
    No gc.collect(): the tensors are freed by reference counting, and a full collection costs
    ~0.2 s per call with a data set loaded."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def displaced_forces(model, graph, structure, delta: float, batch_atoms: int = 48) -> np.ndarray:
    """(6N, N, 3) CHGNet forces on the 6N displaced copies of one structure.

    Why batches are capped by atoms, not graphs: CHGNet keeps the double-backward graph of the
    forces (create_graph=True), about 5-20 MB per atom and growing with neighbour count, so a
    batch of 64 displaced 24-atom cells needs > 8 GB and is also several times slower than small
    batches (page faults). Forces do not depend on how graphs are batched (checked: identical
    to the last bit), so the cap changes only memory and time.
    """
    n = len(structure)
    per_batch = max(1, int(batch_atoms) // n)
    forces = np.empty((6 * n, n, 3))
    graphs = _iter_displaced(graph, structure, delta)
    k = 0
    while k < 6 * n:
        batch = [next(graphs) for _ in range(min(per_batch, 6 * n - k))]
        for p in _predict(model, batch, "ef", per_batch):
            forces[k] = p["f"]
            k += 1
        del batch
    return forces


def _dynamical_matrix(forces: np.ndarray, masses: np.ndarray, delta: float, asr: bool) -> np.ndarray:
    """Mass-weighted dynamical matrix from the (6N, N, 3) forces of ``displaced_forces``."""
    n = len(masses)
    f = forces.reshape(n, 3, 2, n, 3)  # (moved atom, axis, sign, atom, axis)
    phi = -(f[:, :, 0] - f[:, :, 1]) / (2 * delta)  # d2E / du_(j b) du_(i a): (j, b, i, a)
    phi = phi.reshape(3 * n, 3 * n)
    phi = 0.5 * (phi + phi.T)
    m = np.repeat(masses, 3)
    dyn = phi / np.sqrt(np.outer(m, m))
    if asr:  # project out the three rigid translations (mass-weighted), which must cost nothing
        t = np.zeros((3 * n, 3))
        for a in range(3):
            t[a::3, a] = np.sqrt(masses)
        t /= np.linalg.norm(t, axis=0)
        p = np.eye(3 * n) - t @ t.T
        dyn = p @ dyn @ p
    return 0.5 * (dyn + dyn.T)


def _frequencies(dyn: np.ndarray) -> np.ndarray:
    """Frequencies in cm^-1, ascending; imaginary modes are returned negative."""
    lam = np.linalg.eigvalsh(dyn)
    return np.sign(lam) * np.sqrt(np.abs(lam)) * CM1_PER_SQRT_EV_A2_AMU


def frequencies_of(model, structures, delta: float, asr: bool, batch_atoms: int) -> list[np.ndarray]:
    """Gamma-point frequencies (cm^-1) of each structure, one structure at a time."""
    out = []
    for s in structures:
        forces = displaced_forces(model, model.graph_converter(s), s, delta, batch_atoms)
        masses = np.array([float(site.specie.atomic_mass) for site in s])
        out.append(_frequencies(_dynamical_matrix(forces, masses, delta, asr)))
    return out


def _scaled(structure, factor: float):
    s = structure.copy()
    s.scale_lattice(structure.volume * factor)
    return s


def energy_volume(model, structures, strain: float, points: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Volumes (A^3/atom) and CHGNet energies (eV/atom), each (n_structures, points)."""
    structures = list(structures)
    factors = np.linspace(1 - strain, 1 + strain, points)
    scaled = [_scaled(s, f) for s in structures for f in factors]
    preds = _predict(model, [model.graph_converter(s) for s in scaled], "e", batch_size)
    e = np.array([float(p["e"]) for p in preds]).reshape(len(structures), points)
    v = np.array([[s.volume * f / len(s) for f in factors] for s in structures])
    return v, e


def fit_birch_murnaghan(volumes: np.ndarray, energies: np.ndarray) -> tuple[float, float, float, bool]:
    """(V0, E0, B0 in GPa, minimum_found) from a 3rd-order Birch-Murnaghan fit of E(V).

    E is a cubic in x = V^(-2/3); B = V d2E/dV2 = V E''(x) (dx/dV)^2 + V E'(x) d2x/dV2.
    When the fitted curve has no minimum within +-15 % of the scan's middle volume, V0 is the
    middle volume, B is the curvature there and ``minimum_found`` is False.
    """
    v = np.asarray(volumes, dtype=float)
    e = np.asarray(energies, dtype=float)
    x = v ** (-2.0 / 3.0)
    c = np.polyfit(x, e, 3)
    d1, d2 = np.polyder(c, 1), np.polyder(c, 2)
    vmid = float(np.median(v))
    roots = [r.real for r in np.roots(d1) if abs(r.imag) < 1e-12 and r.real > 0 and np.polyval(d2, r.real) > 0]
    roots = [r for r in roots if abs(r ** -1.5 / vmid - 1) <= 0.15]
    found = bool(roots)
    x0 = min(roots, key=lambda r: abs(r ** -1.5 - vmid)) if found else vmid ** (-2.0 / 3.0)
    v0 = x0 ** -1.5
    dxdv = -2.0 / 3.0 * v0 ** (-5.0 / 3.0)
    d2xdv2 = 10.0 / 9.0 * v0 ** (-8.0 / 3.0)
    b = v0 * (np.polyval(d2, x0) * dxdv ** 2 + np.polyval(d1, x0) * d2xdv2)
    return float(v0), float(np.polyval(c, x0)), float(b * EV_A3_TO_GPA), found
