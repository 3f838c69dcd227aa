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

The physics itself is in :mod:`assay.features.chgnet_physics`. ``threads`` (default 1) is
torch's thread count in every process; ``n_jobs`` > 1 runs whole chunks in worker processes,
each with ``threads`` threads, so the values do not depend on ``n_jobs``; progress and
structures/s go to the log.

CHGNet and torch are an optional extra; without them constructing a featuriser raises an
ImportError that says ``pip install 'assay[pretrained]'``.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import io
import warnings
from functools import lru_cache

import numpy as np
from pymatgen.core import Structure

from ._workshare import run_chunks
from .base import BatchResult, Featurizer
from .chgnet_physics import (CM1_PER_SQRT_EV_A2_AMU, EV_A3_TO_GPA, _dynamical_matrix, _frequencies, _predict,
                             _release_memory, displaced_forces, energy_volume, fit_birch_murnaghan, frequencies_of,
                             torch_threads)

__all__ = ["CHGNetFeatures", "require_chgnet", "load_chgnet", "gamma_frequencies", "energy_volume_scan",
           "fit_birch_murnaghan", "displaced_forces", "torch_threads", "INSTALL_HINT", "EV_A3_TO_GPA",
           "CM1_PER_SQRT_EV_A2_AMU"]

INSTALL_HINT = "pip install 'assay[pretrained]'"
MODEL_VERSION = "0.3.0"


def require_chgnet() -> None:
    """Raise a clear ImportError naming the extra when CHGNet/torch are not installed."""
    missing = [m for m in ("torch", "chgnet") if _find(m) is None]
    if missing:
        raise ImportError(f"the CHGNet feature presets need {', '.join(missing)}, which assay does not install "
                          f"by default: {INSTALL_HINT} (on a CPU-only machine install torch's CPU wheel first)")


def _find(mod: str):
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


def gamma_frequencies(structures, *, delta: float = 0.01, asr: bool = True, batch_atoms: int = 48,
                      model=None, threads: int = 1) -> list[np.ndarray]:
    """Gamma-point frequencies (cm^-1, ascending, 3N per structure) from CHGNet finite differences.

    One structure at a time, its displaced graphs built lazily in small batches: memory stays
    bounded by one batch, whatever the number of structures."""
    model = model or load_chgnet()
    with torch_threads(threads):
        return frequencies_of(model, structures, delta, asr, batch_atoms)


def energy_volume_scan(structures, *, strain: float = 0.03, points: int = 5, batch_size: int = 64,
                       model=None, threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Volumes (A^3/atom) and CHGNet energies (eV/atom), each (n_structures, points)."""
    model = model or load_chgnet()
    with torch_threads(threads):
        return energy_volume(model, structures, strain, points, batch_size)


# --- featuriser ------------------------------------------------------------------------------
class CHGNetFeatures(Featurizer):
    """CHGNet embeddings, energies and potential-computed physics for pymatgen Structures.

    Structures are processed in chunks of ``chunk`` so every CHGNet call is a batch; a chunk
    that fails is redone one structure at a time so one bad structure only costs its own row.
    With ``n_jobs`` > 1 whole chunks go to worker processes (each loads the model once and runs
    torch with ``threads`` threads) while the caller works too until they are warm
    (:mod:`assay.features._workshare`): the batches, and so the values, are those of ``n_jobs=1``.
    The phonon group's 6N force calls go one structure at a time in batches of at most
    ``phonon_batch_atoms`` atoms, so peak memory does not grow with the data set.
    """

    GROUPS = ("embedding", "energy", "phonons", "eos")
    FAST = ("embedding", "energy")
    PHYSICS = ("phonons", "eos")
    name = "CHGNetFeatures"
    input_kind = "structure"

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

    def cache_name(self) -> str:
        return f"structure:{self.name}:{'+'.join(self.groups)}"

    def cache_params(self) -> dict:
        """What identifies the numbers (the cache key): groups, settings, chgnet and torch versions."""
        p = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()
             if not k.startswith("_") and k not in ("batch_size", "chunk", "threads", "phonon_batch_atoms")}
        # batch_size, chunk, threads, phonon_batch_atoms are left out: they do not change the values
        p["chgnet"] = importlib.metadata.version("chgnet")
        p["torch"] = importlib.metadata.version("torch")
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

    # -- the batch hook ------------------------------------------------------------------------
    def featurize_batch(self, items, *, n_jobs: int = 1, threads: int | None = None) -> BatchResult:
        """Every structure, in chunks; ``n_jobs`` processes, ``threads`` torch threads in each."""
        structures = list(items)
        threads = self.threads if threads is None else threads
        parts, _ = run_chunks(_chunk, self, structures, self.chunk, n_jobs, threads, "CHGNet " + "+".join(self.groups))
        X = np.vstack([p[0] for p in parts]) if parts else np.empty((0, len(self.feature_labels())))
        errors = {k: v for p in parts for k, v in p[1].items()}
        notes = [n for p in parts for n in p[2]]
        return BatchResult(X, [errors.get(i) for i in range(len(structures))], notes)

    def featurize_with_errors(self, structures, n_jobs: int = 1):
        """(X, {row: reason}, notes as (row, feature, reason)) for a list of Structures."""
        res = self.featurize_batch(structures, n_jobs=n_jobs)
        return res.X, {i: e for i, e in enumerate(res.errors) if e}, res.notes

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
        v, e = energy_volume(model, structures, self.eos_strain, self.eos_points, self.batch_size)
        for j, s in enumerate(structures):
            v0, _, b, found = fit_birch_murnaghan(v[j], e[j])
            if not found:
                notes[j].append(("chgnet eos_v0_ratio", "no energy minimum within 15% of the input volume; "
                                 "bulk modulus is the curvature at the input volume"))
            parts[j].append(np.array([b, v0 / (s.volume / len(s)) if found else np.nan]))


def _chunk(fz: CHGNetFeatures, structures, offset: int, threads: int):
    """(X, {row: reason}, notes) of consecutive structures, rows numbered from ``offset``; run in
    the calling process or a worker, always under ``threads`` torch threads."""
    X = np.full((len(structures), len(fz.feature_labels())), np.nan)
    errors: dict[int, str] = {}
    notes: list = []
    with torch_threads(threads):
        fz._run(structures, X, errors, notes)
    return X, {offset + i: e for i, e in errors.items()}, [(offset + i, f, w) for i, f, w in notes]
