"""Element properties resolved by site role: cations far from anions (A-like), cations close to
anions (B-like) and anions (X).

Composition averages blur what a graph network sees: in ABX3 the 12-fold A site and the
octahedral B site play different parts, and the anion mix sets the charges. This featuriser
splits the sites of each structure into those three roles from geometry and chemistry and pools
Magpie element properties within each role. The rules (anion-forming elements, a cation's mean
distance to its six nearest anions, split at the widest gap when it exceeds 2%) are heuristics; a
structure where a role is empty gets NaN for that role, with the reason in the notes.
"""
from __future__ import annotations

import numpy as np

from ._matrix import source_table
from .base import NotedFeaturizer
from .structure import ANIONS

__all__ = ["SiteRoleProperties"]

PROPS = (  # the 22 properties of matminer's Magpie preset (tested equal)
    "Number", "MendeleevNumber", "AtomicWeight", "MeltingT", "Column", "Row", "CovalentRadius",
    "Electronegativity", "NsValence", "NpValence", "NdValence", "NfValence", "NValence", "NsUnfilled",
    "NpUnfilled", "NdUnfilled", "NfUnfilled", "NUnfilled", "GSvolume_pa", "GSbandgap", "GSmagmom",
    "SpaceGroupNumber")
ROLES = ("A", "B", "X")
ROLE_GAP = 1.02  # two cation roles only when their anion distances differ by more than this ratio
CUTOFF = 8.0


class SiteRoleProperties(NotedFeaturizer):
    """matminer-style featuriser: Magpie properties pooled per site role (A cation, B cation, anion)."""

    name = "SiteRoleProperties"
    input_kind = "structure"

    def cache_params(self) -> dict:
        return {"props": list(PROPS), "anions": sorted(ANIONS), "gap": ROLE_GAP, "cutoff": CUTOFF, "v": 1}

    def feature_labels(self) -> list[str]:
        labs = []
        for r in ROLES:
            stats = ("mean", "min", "max") if r == "X" else ("mean",)
            labs += [f"site {r} {st} {p}" for p in PROPS for st in stats]
            labs += [f"site {r} fraction", f"site {r} anion distance"]
        return labs + ["site A-X / sqrt2 B-X distance ratio", "site B-X distance / volume^(1/3)"]

    def citations(self) -> list[str]:
        return ["@article{Ward2016, title={A general-purpose machine learning framework for predicting "
                "properties of inorganic materials}, journal={npj Comput. Mater.}, volume={2}, pages={16028}, "
                "year={2016}}"]

    def implementors(self) -> list[str]:
        return ["assay"]

    def roles(self, s) -> np.ndarray:
        """Role index per site (0 = A, 1 = B, 2 = X) and each site's mean distance to its 6 nearest anions."""
        sym = [sp.symbol for sp in s.species]
        anion = np.array([e in ANIONS for e in sym])
        if not anion.any():  # no anion former: the most electronegative element plays the anion
            en = np.array([sp.X for sp in s.species])
            anion = en == en.max()
        role = np.full(len(s), 2)
        dist = np.full(len(s), np.nan)
        cat = np.flatnonzero(~anion)
        if len(cat) == 0:
            return role, dist
        ci, nj, _, d = s.get_neighbor_list(CUTOFF, sites=[s[i] for i in cat])
        for k, i in enumerate(cat):
            dd = np.sort(d[(ci == k) & anion[nj]])[:6]
            dist[i] = dd.mean() if len(dd) else np.nan
        role[cat] = 1
        dc = dist[cat]
        if len(cat) > 1 and np.isfinite(dc).all() and dc.max() / dc.min() > ROLE_GAP:
            srt = np.sort(dc)
            g = int(np.argmax(srt[1:] / srt[:-1]))
            role[cat[dc > srt[g]]] = 0
        return role, dist

    def featurize_with_notes(self, s) -> tuple[list, dict[str, str]]:
        table = source_table("magpie", True, PROPS).values
        z = np.array([sp.Z for sp in s.species])
        role, dist = self.roles(s)
        notes, out, rd = {}, [], {}
        for r_i, r in enumerate(ROLES):
            m = role == r_i
            k = len(PROPS) * (3 if r == "X" else 1)
            if not m.any():
                out += [np.nan] * k + [0.0, np.nan]
                notes[f"site {r} mean Number"] = f"no site in role {r}"
                continue
            P = table[z[m]]
            out += list(np.column_stack([P.mean(0), P.min(0), P.max(0)]).ravel()) if r == "X" else list(P.mean(0))
            rd[r] = float(np.nanmean(dist[m])) if r != "X" else np.nan
            out += [m.mean(), rd[r]]
        a, b = rd.get("A", np.nan), rd.get("B", np.nan)
        out += [a / (np.sqrt(2) * b) if np.isfinite(a) and np.isfinite(b) else np.nan,
                b / s.volume ** (1 / 3) if np.isfinite(b) else np.nan]
        return out, notes
