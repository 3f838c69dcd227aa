"""A crystal graph as a fixed-width numeric row, for the zoo's graph network (models/graph.py).

assay's models see feature matrices, not structures. A message-passing network needs only each
atom's element and, per atom, its nearest periodic neighbours with their distances; this
featuriser writes exactly that into one row, padded to ``max_atoms``: the number of atoms, each
atom's atomic number (0 = no atom), then for each atom its ``n_neighbours`` nearest neighbours
(index of the neighbour's site within the cell, -1 = none; distance in Å, 0 = none). Periodic
images count as neighbours, so a one-atom cell has a full neighbour list of itself.

A structure with more than ``max_atoms`` sites cannot be encoded; its row is NaN with the reason
(the pipeline's failed-row report names it). A disordered site is encoded as its majority species,
with a note. Other models can read the table, but it is meant for the graph network: the columns are
labelled ``graph atom {i} Z``, ``graph atom {i} nbr {k} index`` and ``graph atom {i} nbr {k} distance``,
and the network finds its layout from those labels.
"""
from __future__ import annotations

import numpy as np

from .base import NotedFeaturizer

__all__ = ["CrystalGraph", "GRAPH_PREFIX"]

GRAPH_PREFIX = "graph atom "  # models/graph.py parses labels starting with this (tested together)
FIRST_RADIUS = 5.0  # Å; grown by half until every atom has n_neighbours neighbours or MAX_RADIUS is reached
MAX_RADIUS = 16.0


class CrystalGraph(NotedFeaturizer):
    """matminer-style featuriser: atomic numbers and K-nearest-neighbour lists, padded to ``max_atoms``."""

    name = "CrystalGraph"
    input_kind = "structure"

    def __init__(self, max_atoms: int = 64, n_neighbours: int = 12):
        if int(max_atoms) < 1 or int(n_neighbours) < 1:
            raise ValueError(f"max_atoms and n_neighbours must be positive, not {max_atoms}, {n_neighbours}")
        self.max_atoms = int(max_atoms)
        self.n_neighbours = int(n_neighbours)

    def cache_params(self) -> dict:
        return {"max_atoms": self.max_atoms, "n_neighbours": self.n_neighbours, "first_radius": FIRST_RADIUS,
                "max_radius": MAX_RADIUS, "v": 1}

    def feature_labels(self) -> list[str]:
        labs = ["graph n atoms"]
        for i in range(self.max_atoms):
            labs.append(f"{GRAPH_PREFIX}{i} Z")
            labs += [f"{GRAPH_PREFIX}{i} nbr {k} index" for k in range(self.n_neighbours)]
            labs += [f"{GRAPH_PREFIX}{i} nbr {k} distance" for k in range(self.n_neighbours)]
        return labs

    def citations(self) -> list[str]:
        return ["@article{Xie2018, title={Crystal Graph Convolutional Neural Networks for an Accurate and "
                "Interpretable Prediction of Material Properties}, journal={Phys. Rev. Lett.}, volume={120}, "
                "pages={145301}, year={2018}}"]

    def implementors(self) -> list[str]:
        return ["assay"]

    def neighbours(self, s) -> tuple[np.ndarray, np.ndarray]:
        """(index, distance), each (n atoms, n_neighbours): the nearest periodic neighbours, ties
        broken by site index so that the encoding is deterministic; -1 / 0 where there are fewer."""
        n, K = len(s), self.n_neighbours
        r = FIRST_RADIUS
        while True:
            ci, nj, _, d = s.get_neighbor_list(r)
            counts = np.bincount(ci, minlength=n)
            if counts.min() >= K or r >= MAX_RADIUS:
                break
            r = min(r * 1.5, MAX_RADIUS)
        idx = np.full((n, K), -1, dtype=int)
        dist = np.zeros((n, K))
        order = np.lexsort((nj, np.round(d, 6), ci))  # by atom, then distance, then neighbour index
        ci, nj, d = ci[order], nj[order], d[order]
        starts = np.searchsorted(ci, np.arange(n))
        for i in range(n):
            k = min(K, int(counts[i]))
            idx[i, :k] = nj[starts[i]:starts[i] + k]
            dist[i, :k] = d[starts[i]:starts[i] + k]
        return idx, dist

    def featurize_with_notes(self, s) -> tuple[list, dict[str, str]]:
        n, A, K = len(s), self.max_atoms, self.n_neighbours
        if n > A:
            raise ValueError(f"{n} sites, more than CrystalGraph(max_atoms={A}) can encode; "
                             f"raise max_atoms to at least {n}")
        notes = {}
        z = np.zeros(A)
        for i, site in enumerate(s):
            comp = site.species
            if len(comp) > 1 or sum(comp.values()) < 1 - 1e-8:
                notes[f"{GRAPH_PREFIX}{i} Z"] = f"disordered site {i} ({comp.formula}) encoded as its majority species"
            z[i] = max(comp.items(), key=lambda kv: (kv[1], -kv[0].Z))[0].Z
        idx, dist = self.neighbours(s)
        block = np.full((A, 1 + 2 * K), 0.0)
        block[:, 1:1 + K] = -1
        block[:, 0] = z
        block[:n, 1:1 + K] = idx
        block[:n, 1 + K:] = dist
        return [float(n)] + block.ravel().tolist(), notes
