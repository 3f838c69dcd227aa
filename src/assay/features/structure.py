"""Structure featurisers: cheap geometric, symmetry, neighbour and physics descriptors.

Everything per structure comes from one neighbour list (``Structure.get_neighbor_list``, a
compiled cell-list search) so the cost is dominated by spglib. Values that do not apply
to a structure (no oxidation-state guess, not an ABX3 perovskite) are NaN and reported in
``notes`` with the reason, never silently.
"""
from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np
import spglib
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.core import Element, Species

from .adaptor import MatminerAdaptor
from .base import NotedFeaturizer

__all__ = ["StructureFeatures", "MatminerAdaptor", "CRYSTAL_SYSTEMS", "featurize_structures"]

CRYSTAL_SYSTEMS = ("triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal", "hexagonal", "cubic")
RDF_EDGES = np.arange(1.0, 6.01, 0.5)
CUTOFF = 6.0
CN_TOL = 0.2  # neighbours within (1 + tol) x the site's shortest bond count as bonded
ANIONS = {"O", "F", "Cl", "Br", "I", "S", "Se", "N"}


def _crystal_system(sg: int) -> int:
    bounds = (2, 15, 74, 142, 167, 194, 230)
    return next(i for i, b in enumerate(bounds) if sg <= b) + 1


@lru_cache(maxsize=None)
def _el(z: int):
    el = Element.from_Z(z)
    r = el.atomic_radius
    return float(el.atomic_mass), (float(r) if r is not None else np.nan)


class StructureFeatures(NotedFeaturizer):
    """Geometric/symmetry/neighbour/physics descriptors; ``groups`` picks the expensive parts.

    Groups: basic (density, packing, lattice), symmetry (spglib, symprec 0.1), neighbours
    (coordination and bond-length statistics, bond-stiffness phonon proxy), rdf, mass,
    coulomb (sine-Coulomb eigenvalue statistics), ewald (needs oxidation-state guesses),
    perovskite (Goldschmidt tolerance and octahedral factors for ABX3).
    """

    ALL = ("basic", "symmetry", "neighbours", "rdf", "mass", "coulomb", "ewald", "perovskite")
    FAST = ("basic", "symmetry", "neighbours", "mass")

    def __init__(self, groups=FAST, symprec: float = 0.1):
        unknown = set(groups) - set(self.ALL)
        if unknown:
            raise ValueError(f"unknown structure feature groups {sorted(unknown)}")
        self.groups = tuple(g for g in self.ALL if g in groups)
        self.symprec = symprec

    name = "StructureFeatures"
    input_kind = "structure"

    def cache_params(self) -> dict:
        return {"groups": list(self.groups), "symprec": self.symprec, "cutoff": CUTOFF, "cn_tol": CN_TOL,
                "v": 1}

    def _labels(self, group):
        if group == "basic":
            return ["density", "volume per atom", "packing fraction", "n sites", "a", "b", "c",
                    "alpha", "beta", "gamma"]
        if group == "symmetry":
            return ["spacegroup number", "crystal system"]
        if group == "neighbours":
            return [f"{s} {q}" for q in ("coordination number", "bond length") for s in ("mean", "std", "min", "max")] \
                + ["mean bond stiffness", "max bond stiffness", "min bond stiffness"]
        if group == "rdf":
            return [f"rdf {a:.1f}-{b:.1f}" for a, b in zip(RDF_EDGES[:-1], RDF_EDGES[1:])] + ["rdf peak position"]
        if group == "mass":
            return ["mean atomic mass", "min atomic mass", "max atomic mass"]
        if group == "coulomb":
            return [f"{s} sine coulomb eigenvalue" for s in ("mean", "std", "min", "max")]
        if group == "ewald":
            return ["ewald energy per atom"]
        if group == "perovskite":
            return ["tolerance factor", "octahedral factor"]
        raise ValueError(group)

    def feature_labels(self):
        return [lab for g in self.groups for lab in self._labels(g)]

    def citations(self):
        return ["@article{Ward2017, title={Including crystal structure attributes in machine learning models "
                "of formation energies via Voronoi tessellations}, journal={Phys. Rev. B}, volume={96}, "
                "pages={024104}, year={2017}}",
                "@article{Faber2015, title={Crystal structure representations for machine learning models of "
                "formation energies}, journal={Int. J. Quantum Chem.}, volume={115}, pages={1094}, year={2015}}",
                "@article{Togo2018, title={Spglib: a software library for crystal symmetry search}, "
                "journal={arXiv:1808.01590}, year={2018}}"]

    def implementors(self):
        return ["assay"]

    def featurize_with_notes(self, s) -> tuple[list, dict[str, str]]:
        notes: dict[str, str] = {}
        out: list = []
        z = np.array([sp.Z for sp in s.species])
        masses = np.array([_el(int(x))[0] for x in z])
        nb = None
        for g in self.groups:
            if g in ("neighbours", "rdf") and nb is None:
                nb = s.get_neighbor_list(CUTOFF)
            out += getattr(self, f"_g_{g}")(s, z, masses, nb, notes)
        return out, notes

    # --- groups -------------------------------------------------------------------------------
    def _g_basic(self, s, z, masses, nb, notes):
        n = len(s)
        radii = np.array([_el(int(x))[1] for x in z])
        packing = float(np.sum(4 / 3 * np.pi * radii ** 3) / s.volume)
        if np.isnan(packing):
            notes["packing fraction"] = "an element has no atomic radius in pymatgen"
        a, b, c = s.lattice.abc
        al, be, ga = s.lattice.angles
        return [float(s.density), s.volume / n, packing, n, a, b, c, al, be, ga]

    def _g_symmetry(self, s, z, masses, nb, notes):
        cell = (s.lattice.matrix, s.frac_coords, z)
        try:
            ds = spglib.get_symmetry_dataset(cell, symprec=self.symprec, angle_tolerance=5)
        except Exception as exc:  # spglib raises on pathological cells in recent versions
            ds, why = None, str(exc)
        else:
            why = "spglib found no symmetry dataset"
        if ds is None:
            notes["spacegroup number"] = notes["crystal system"] = why
            return [np.nan, np.nan]
        return [ds.number, _crystal_system(ds.number)]

    def _g_neighbours(self, s, z, masses, nb, notes):
        ci, pi, _, d = nb
        n = len(s)
        keep = d > 1e-8
        ci, pi, d = ci[keep], pi[keep], d[keep]
        if len(d) == 0:
            for lab in self._labels("neighbours"):
                notes[lab] = f"no neighbours within {CUTOFF} Å"
            return [np.nan] * 11
        dmin = np.full(n, np.inf)
        np.minimum.at(dmin, ci, d)
        bonded = d <= dmin[ci] * (1 + CN_TOL)
        cn = np.bincount(ci[bonded], minlength=n).astype(float)
        bl = d[bonded]
        mi, mj = masses[ci[bonded]], masses[pi[bonded]]
        stiff = (mi + mj) / (mi * mj) / bl ** 2  # 1/(reduced mass x length^2): harmonic frequency proxy
        if np.isinf(dmin).any():
            notes["min coordination number"] = f"a site has no neighbour within {CUTOFF} Å"
        return [cn.mean(), cn.std(), cn.min(), cn.max(), bl.mean(), bl.std(), bl.min(), bl.max(),
                stiff.mean(), stiff.max(), stiff.min()]

    def _g_rdf(self, s, z, masses, nb, notes):
        _, _, _, d = nb
        d = d[d > 1e-8]
        n = len(s)
        counts, _ = np.histogram(d, RDF_EDGES)
        shell = 4 / 3 * np.pi * (RDF_EDGES[1:] ** 3 - RDF_EDGES[:-1] ** 3)
        g = counts / n / (shell * n / s.volume)
        fine_edges = np.arange(0.0, CUTOFF + 1e-9, 0.1)
        fc, _ = np.histogram(d, fine_edges)
        fg = fc / (fine_edges[1:] ** 3 - fine_edges[:-1] ** 3)  # counts per shell volume
        peak = float(fine_edges[np.argmax(fg)] + 0.05) if fc.any() else np.nan
        if np.isnan(peak):
            notes["rdf peak position"] = f"no neighbours within {CUTOFF} Å"
        return list(g) + [peak]

    def _g_mass(self, s, z, masses, nb, notes):
        return [masses.mean(), masses.min(), masses.max()]

    def _g_coulomb(self, s, z, masses, nb, notes):
        from matminer.featurizers.structure.matrix import ANG_TO_BOHR

        lat = s.lattice.matrix
        fc = s.frac_coords
        zf = z.astype(float)
        diff = fc[:, None, :] - fc[None, :, :]
        vec = np.sin(np.pi * diff) ** 2 @ lat  # (n, n, 3)
        dist = np.linalg.norm(vec, axis=-1) * ANG_TO_BOHR  # matminer's (Faber et al.) units
        with np.errstate(divide="ignore"):
            M = np.outer(zf, zf) / dist
        np.fill_diagonal(M, 0.5 * zf ** 2.4)
        ev = np.linalg.eigvalsh(M)
        return [ev.mean(), ev.std(), ev.min(), ev.max()]

    def _g_ewald(self, s, z, masses, nb, notes):
        try:
            guesses = s.composition.oxi_state_guesses(max_sites=-50)
        except Exception as exc:  # max_sites can be exceeded for large reduced formulas
            guesses, why = (), f"oxidation-state guess failed: {exc}"
        else:
            why = "no charge-balanced oxidation states found"
        if not guesses:
            notes["ewald energy per atom"] = why
            return [np.nan]
        s2 = s.copy()
        s2.add_oxidation_state_by_element(guesses[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [EwaldSummation(s2).total_energy / len(s2)]

    def _g_perovskite(self, s, z, masses, nb, notes):
        comp = s.composition.reduced_composition.element_composition
        amts = {el.symbol: a for el, a in comp.items()}
        labs = self._labels("perovskite")
        anions = [e for e, a in amts.items() if e in ANIONS and math.isclose(a, 3)]
        others = [e for e in amts if e not in anions]
        if len(amts) != 3 or len(anions) != 1 or not all(math.isclose(amts[e], 1) for e in others):
            for lab in labs:
                notes[lab] = "not an ABX3 composition"
            return [np.nan, np.nan]
        try:
            guess = s.composition.oxi_state_guesses(max_sites=-50)
        except Exception:
            guess = ()
        if not guess:
            for lab in labs:
                notes[lab] = "no charge-balanced oxidation states for ABX3"
            return [np.nan, np.nan]
        ox = guess[0]
        x = anions[0]
        r = {e: _ionic_radius(e, ox[e], cn) for e, cn in ((others[0], "XII"), (others[1], "XII"), (x, "VI"))}
        a, b = sorted(others, key=lambda e: -r[e])
        rb = _ionic_radius(b, ox[b], "VI")
        if np.isnan([r[a], rb, r[x]]).any():
            for lab in labs:
                notes[lab] = "missing ionic radius"
            return [np.nan, np.nan]
        t = (r[a] + r[x]) / (math.sqrt(2) * (rb + r[x]))
        return [t, rb / r[x]]


def _ionic_radius(el: str, oxi: float, cn: str) -> float:
    """Shannon radius at the given coordination, falling back to pymatgen's ionic radius."""
    oxi_r = round(oxi)
    try:
        sp = Species(el, oxi_r)
    except Exception:
        return np.nan
    try:
        return float(sp.get_shannon_radius(cn))
    except Exception:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = sp.ionic_radius
            return float(r) if r is not None else np.nan
        except Exception:
            return np.nan


def featurize_structures(featurizer, structures, n_jobs: int = 1):
    """(X, {row: reason}, notes as (row, feature, reason)) for a list of Structures, via the batch hook."""
    res = featurizer.featurize_batch(list(structures), n_jobs=n_jobs)
    return res.X, {i: e for i, e in enumerate(res.errors) if e}, list(res.notes)
