"""A pretrained universal potential (CHGNet) as a feature source: learned embeddings plus physics.

Why: a potential trained on ~1.5 M DFT calculations carries knowledge that hand-made
descriptors lack, and it can *compute* physical quantities the target depends on (Gamma-point
vibrational frequencies, bulk modulus) for the cost of a few dozen force evaluations.

Groups (``CHGNetFeatures(groups=...)``):

* ``embedding``: the 64-d crystal feature and mean/max/min pooled 64-d atom features;
* ``energy``: predicted energy per atom, largest residual force, pressure, mean magnetic moment
  (the last three say how far the input is from CHGNet's own equilibrium);
* ``phonons``: Gamma-point frequencies from central finite differences of CHGNet forces on
  the cell itself (every periodic image moves together, which is exactly q = 0), with the
  mass-weighted dynamical matrix symmetrised and, by default, the three rigid translations
  projected out (acoustic sum rule). No LO-TO splitting (no Born charges). Displaced copies
  reuse the undisplaced crystal graph: CHGNet recomputes bond vectors from coordinates.
* ``eos``: bulk modulus from a 5-point energy-volume scan (+-3 % in volume, fractional
  coordinates fixed, no internal relaxation) fitted with the 3rd-order Birch-Murnaghan form,
  which is a cubic polynomial in V^(-2/3) and so a linear least-squares fit.

CHGNet and torch are an optional extra; without them constructing a featuriser raises an
ImportError that says ``pip install 'assay[pretrained]'``.
"""
from __future__ import annotations

import contextlib
import copy
import io
import math
import warnings
from functools import lru_cache

import numpy as np

__all__ = ["CHGNetFeatures", "require_chgnet", "load_chgnet", "gamma_frequencies", "energy_volume_scan",
           "fit_birch_murnaghan", "INSTALL_HINT", "EV_A3_TO_GPA", "CM1_PER_SQRT_EV_A2_AMU"]

INSTALL_HINT = "pip install 'assay[pretrained]'"
EV_A3_TO_GPA = 160.21766208
# nu[cm^-1] = CM1_PER_SQRT_EV_A2_AMU * sqrt(eigenvalue[eV / (A^2 amu)])
CM1_PER_SQRT_EV_A2_AMU = math.sqrt(1.602176634e-19 / (1e-20 * 1.66053906660e-27)) / (2 * math.pi * 2.99792458e10)
MODEL_VERSION = "0.3.0"


def require_chgnet() -> None:
    """Raise a clear ImportError naming the extra when CHGNet/torch are not installed."""
    missing = [m for m in ("torch", "chgnet") if _find(m) is None]
    if missing:
        raise ImportError(f"the CHGNet feature presets need {', '.join(missing)}, which assay does not install "
                          f"by default: {INSTALL_HINT} (on a CPU-only machine install torch's CPU wheel first)")


def _find(mod: str):
    import importlib.util

    return importlib.util.find_spec(mod)


def load_chgnet(version: str = MODEL_VERSION):
    """The pretrained model (weights ship in the chgnet wheel: no download), on CPU, loaded once."""
    return _load(version)


@lru_cache(maxsize=None)
def _load(version: str):
    require_chgnet()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        from chgnet.model import CHGNet

        model = CHGNet.load(model_name=version, use_device="cpu", verbose=False)
    model.graph_converter.set_isolated_atom_response("error")
    return model


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


# --- physics ---------------------------------------------------------------------------------
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
    import ctypes

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


def gamma_frequencies(structures, *, delta: float = 0.01, asr: bool = True, batch_atoms: int = 48,
                      model=None, threads: int = 1) -> list[np.ndarray]:
    """Gamma-point frequencies (cm^-1, ascending, 3N per structure) from CHGNet finite differences.

    One structure at a time, its displaced graphs built lazily in small batches: memory stays
    bounded by one batch, whatever the number of structures."""
    model = model or load_chgnet()
    out = []
    with torch_threads(threads):
        for s in structures:
            forces = displaced_forces(model, model.graph_converter(s), s, delta, batch_atoms)
            masses = np.array([float(site.specie.atomic_mass) for site in s])
            out.append(_frequencies(_dynamical_matrix(forces, masses, delta, asr)))
    return out


def _scaled(structure, factor: float):
    s = structure.copy()
    s.scale_lattice(structure.volume * factor)
    return s


def energy_volume_scan(structures, *, strain: float = 0.03, points: int = 5, batch_size: int = 64,
                       model=None, threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Volumes (A^3/atom) and CHGNet energies (eV/atom), each (n_structures, points)."""
    model = model or load_chgnet()
    structures = list(structures)
    factors = np.linspace(1 - strain, 1 + strain, points)
    scaled = [_scaled(s, f) for s in structures for f in factors]
    with torch_threads(threads):
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


# --- featuriser ------------------------------------------------------------------------------
class CHGNetFeatures:
    """CHGNet embeddings, energies and potential-computed physics for pymatgen Structures.

    Same contract as matminer featurisers (``featurize``, ``featurize_many``, ``feature_labels``,
    ``citations``, ``implementors``). Structures are processed in chunks so every CHGNet call is
    a batch; a chunk that fails is redone one structure at a time so one bad structure only
    costs its own row. The phonon group's 6N force calls go one structure at a time in batches
    of at most ``phonon_batch_atoms`` atoms, so peak memory does not grow with the data set.
    """

    GROUPS = ("embedding", "energy", "phonons", "eos")
    FAST = ("embedding", "energy")
    PHYSICS = ("phonons", "eos")
    name = "CHGNetFeatures"

    def __init__(self, groups=FAST, model: str = MODEL_VERSION, displacement: float = 0.01, asr: bool = True,
                 eos_strain: float = 0.03, eos_points: int = 5, max_phonon_atoms: int = 48,
                 batch_size: int = 64, chunk: int = 16, threads: int = 1, phonon_batch_atoms: int = 48):
        require_chgnet()
        unknown = set(groups) - set(self.GROUPS)
        if unknown:
            raise ValueError(f"unknown CHGNet feature groups {sorted(unknown)}; known: {self.GROUPS}")
        self.groups = tuple(g for g in self.GROUPS if g in groups)
        self.model = model
        self.displacement = displacement
        self.asr = asr
        self.eos_strain = eos_strain
        self.eos_points = eos_points
        self.max_phonon_atoms = max_phonon_atoms
        self.batch_size = batch_size
        self.chunk = chunk
        self.threads = threads
        self.phonon_batch_atoms = phonon_batch_atoms

    def params(self) -> dict:
        """What identifies the numbers (the cache key): groups, settings, chgnet and torch versions."""
        from importlib.metadata import version

        p = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()
             if k not in ("batch_size", "chunk", "threads", "phonon_batch_atoms")}  # these do not change the values
        p["chgnet"] = version("chgnet")
        p["torch"] = version("torch")
        return p

    def feature_labels(self) -> list[str]:
        labs = []
        if "embedding" in self.groups:
            labs += [f"chgnet crystal_fea {i}" for i in range(64)]
            labs += [f"chgnet atom_fea {stat} {i}" for stat in ("mean", "max", "min") for i in range(64)]
        if "energy" in self.groups:
            labs += ["chgnet energy_per_atom (eV)", "chgnet max_force (eV/A)", "chgnet pressure (GPa)",
                     "chgnet mean_magmom (muB)"]
        if "phonons" in self.groups:
            labs += ["chgnet gamma_freq_max (cm-1)", "chgnet gamma_freq_mean_optical (cm-1)",
                     "chgnet gamma_freq_std_optical (cm-1)", "chgnet gamma_freq_min_optical (cm-1)",
                     "chgnet gamma_imaginary_fraction"]
        if "eos" in self.groups:
            labs += ["chgnet bulk_modulus (GPa)", "chgnet eos_v0_ratio"]
        return labs

    def citations(self) -> list[str]:
        return ["@article{deng2023chgnet, title={CHGNet as a pretrained universal neural network potential for "
                "charge-informed atomistic modelling}, author={Deng, Bowen and Zhong, Peichen and Jun, KyuJung and "
                "Riebesell, Janosh and Han, Kevin and Bartel, Christopher J. and Ceder, Gerbrand}, "
                "journal={Nature Machine Intelligence}, volume={5}, pages={1031--1041}, year={2023}}"]

    def implementors(self) -> list[str]:
        return ["assay", "CHGNet (Deng et al.)"]

    # -- public API ----------------------------------------------------------------------------
    def featurize(self, structure) -> list[float]:
        X, errors, _ = self.featurize_with_errors([structure])
        if errors:
            raise ValueError(errors[0])
        return X[0].tolist()

    def featurize_many(self, structures, ignore_errors: bool = False, return_errors: bool = False, pbar=False):
        from .composition import many_result

        X, errors, _ = self.featurize_with_errors(structures)
        return many_result(self.name, X, errors, ignore_errors, return_errors)

    def featurize_with_errors(self, structures):
        """(X, {row: reason}, notes as (row, feature, reason)) for a list of Structures."""
        structures = list(structures)
        width = len(self.feature_labels())
        X = np.full((len(structures), width), np.nan)
        errors: dict[int, str] = {}
        notes: list = []
        with torch_threads(self.threads):
            self._run(structures, X, errors, notes)
        return X, errors, notes

    def _run(self, structures, X, errors, notes):
        for start in range(0, len(structures), self.chunk):
            idx = list(range(start, min(start + self.chunk, len(structures))))
            try:
                rows, nts = self._rows([structures[i] for i in idx])
                for j, i in enumerate(idx):
                    X[i] = rows[j]
                    notes += [(i, f, why) for f, why in nts[j]]
            except Exception:  # find the culprit(s): redo one at a time
                for i in idx:
                    try:
                        rows, nts = self._rows([structures[i]])
                        X[i] = rows[0]
                        notes += [(i, f, why) for f, why in nts[0]]
                    except Exception as exc:
                        errors[i] = f"{type(exc).__name__}: {exc}"

    # -- internals -----------------------------------------------------------------------------
    def _rows(self, structures):
        from pymatgen.core import Structure

        for s in structures:
            if not isinstance(s, Structure):
                raise TypeError(f"CHGNet features need a pymatgen Structure, got {type(s).__name__}")
            if not s.is_ordered:
                raise ValueError("disordered structure (partial occupancies): CHGNet needs an ordered cell")
        model = load_chgnet(self.model)
        graphs = [model.graph_converter(s) for s in structures]
        parts = [[] for _ in structures]
        notes = [[] for _ in structures]
        if "embedding" in self.groups or "energy" in self.groups:
            task = "efsm" if "energy" in self.groups else "e"
            preds = _predict(model, graphs, task, self.batch_size,
                             return_crystal_feas="embedding" in self.groups,
                             return_atom_feas="embedding" in self.groups)
            for j, p in enumerate(preds):
                if "embedding" in self.groups:
                    a = np.asarray(p["atom_fea"], dtype=float)
                    parts[j] += [np.asarray(p["crystal_fea"], dtype=float).ravel(), a.mean(0), a.max(0), a.min(0)]
                if "energy" in self.groups:
                    f = np.asarray(p["f"], dtype=float)
                    s = np.asarray(p["s"], dtype=float)
                    parts[j].append(np.array([float(p["e"]), float(np.linalg.norm(f, axis=1).max()),
                                              float(np.trace(s) / 3.0), float(np.mean(p["m"]))]))
        if "phonons" in self.groups:
            self._phonons(model, structures, graphs, parts, notes)
        if "eos" in self.groups:
            self._eos(model, structures, parts, notes)
        return [np.concatenate(p) for p in parts], notes

    def _phonons(self, model, structures, graphs, parts, notes):
        labs = ["chgnet gamma_freq_max (cm-1)", "chgnet gamma_freq_mean_optical (cm-1)",
                "chgnet gamma_freq_std_optical (cm-1)", "chgnet gamma_freq_min_optical (cm-1)",
                "chgnet gamma_imaginary_fraction"]
        freqs = {}
        for j, s in enumerate(structures):  # one structure at a time: memory bounded by one batch
            if not 1 < len(s) <= self.max_phonon_atoms:
                continue
            forces = displaced_forces(model, graphs[j], s, self.displacement, self.phonon_batch_atoms)
            masses = np.array([float(site.specie.atomic_mass) for site in s])
            freqs[j] = _frequencies(_dynamical_matrix(forces, masses, self.displacement, self.asr))
            del forces
            _release_memory()
        for j, s in enumerate(structures):
            if j not in freqs:
                why = ("one atom per cell: Gamma has only the three zero-frequency acoustic modes" if len(s) == 1
                       else f"{len(s)} atoms > max_phonon_atoms={self.max_phonon_atoms}: Gamma phonons skipped")
                notes[j] += [(lab, why) for lab in labs]
                parts[j].append(np.full(5, np.nan))
                continue
            nu = freqs[j]
            optical = nu[np.argsort(np.abs(nu))[3:]]  # drop the three acoustic (smallest |nu|) modes
            parts[j].append(np.array([nu.max(), optical.mean(), optical.std(), optical.min(),
                                      float(np.mean(nu < -10.0))]))

    def _eos(self, model, structures, parts, notes):
        v, e = energy_volume_scan(structures, strain=self.eos_strain, points=self.eos_points,
                                  batch_size=self.batch_size, model=model, threads=self.threads)
        for j, s in enumerate(structures):
            v0, _, b, found = fit_birch_murnaghan(v[j], e[j])
            if not found:
                notes[j].append(("chgnet eos_v0_ratio", "no energy minimum within 15% of the input volume; "
                                 "bulk modulus is the curvature at the input volume"))
            parts[j].append(np.array([b, v0 / (s.volume / len(s)) if found else np.nan]))
