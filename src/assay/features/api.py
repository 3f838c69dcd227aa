"""The featurisation contract the workflow depends on: inputs in, a FeatureSet out.

A preset is a list of blocks (a vectorised composition featuriser, the structure featuriser,
or any matminer featuriser by name). Each block is cached on its own, so presets that share a
block (every composition preset contains the Magpie block) share its cache entry.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from . import composition as C
from .embeddings import EMBEDDINGS, ElementEmbedding
from .sites import SiteRoleProperties
from .structure import MatminerAdaptor, StructureFeatures, featurize_structures


@dataclass
class FeatureSet:
    """A feature table aligned with the input rows, plus the rows that could not be featurised.

    ``notes`` lists single values that are NaN for a stated reason (e.g. no oxidation-state
    guess for the Ewald energy) while the rest of the row is fine.
    """

    X: pd.DataFrame
    preset: str
    failed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "id", "reason"]))
    citations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    from_cache: bool = False
    notes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "id", "feature", "reason"]))

    @property
    def labels(self) -> list[str]:
        return list(self.X.columns)


# --- blocks ----------------------------------------------------------------------------------
class _Inputs:
    """The inputs of one featurize() call, parsed lazily and at most once."""

    def __init__(self, values: list, input_type: str):
        self.values = values
        self.input_type = input_type
        self._cm = None

    @property
    def matrix(self) -> C.CompositionMatrix:
        if self._cm is None:
            self._cm = C.CompositionMatrix.from_compositions(self.values)
        return self._cm


class _Block:
    """A featuriser as one cacheable unit: its parameters, labels and citations come from it."""

    fz = None

    def params(self):
        return self.fz.params()

    def labels(self):
        return self.fz.feature_labels()

    def citations(self):
        return self.fz.citations()


class _CompositionBlock(_Block):
    kind = "composition"

    def __init__(self, fz: C.VectorFeaturizer):
        self.fz = fz
        self.name = f"composition:{fz.name}"

    def compute(self, inp: _Inputs, n_jobs: int):
        X, err = self.fz.featurize_matrix(inp.matrix)
        return X, err, []


class _StructureBlock(_Block):
    kind = "structure"

    def __init__(self, fz: StructureFeatures):
        self.fz = fz
        self.name = f"structure:{fz.name}"

    def compute(self, inp: _Inputs, n_jobs: int):
        return featurize_structures(self.fz, inp.values, n_jobs=n_jobs)


class _PretrainedBlock(_Block):
    """A CHGNet feature group; ``n_jobs`` becomes torch's thread count (the model runs in-process)."""

    kind = "structure"

    def __init__(self, groups):
        from .pretrained import CHGNetFeatures

        self.fz = CHGNetFeatures(groups=groups)
        self.name = f"structure:{self.fz.name}:{'+'.join(self.fz.groups)}"

    def compute(self, inp: _Inputs, n_jobs: int):
        import os

        self.fz.threads = n_jobs if n_jobs > 0 else (os.cpu_count() or 1)
        return self.fz.featurize_with_errors(inp.values)


class _MatminerBlock:
    def __init__(self, spec: str, kind: str, preset: str | None = None):
        self.fz = MatminerAdaptor(spec, preset=preset)
        self.name = self.fz.name
        self.kind = kind

    def params(self):
        return self.fz.params()

    def labels(self):
        return [f"{self.fz.spec} {lab}" for lab in self.fz.feature_labels()]

    def citations(self):
        return self.fz.citations()

    def compute(self, inp: _Inputs, n_jobs: int):
        entries = inp.values
        if self.kind == "composition":
            entries = [c if c is not None else "" for c in inp.matrix.compositions]
        X, err = self.fz.featurize_many_with_errors(entries, n_jobs=n_jobs)
        return X, err, []


# --- presets ---------------------------------------------------------------------------------
def _magpie():
    return C.ElementProperty.from_preset("magpie", impute_nan=False)


def _comp_fast():
    return [_magpie(), C.Stoichiometry(), C.ValenceOrbital(impute_nan=False),
            C.IonProperty(fast=True, impute_nan=False)]


def _comp_full():
    eps = [C.ElementProperty.from_preset(p, impute_nan=True) for p in ("deml", "matminer", "matscholar_el", "megnet_el")]
    return [_magpie(), *eps, C.Stoichiometry(), C.ValenceOrbital(impute_nan=False),
            C.IonProperty(fast=True, impute_nan=False), C.BandCenter(impute_nan=True), C.ElementFraction()]


def _cb(fzs):
    return [_CompositionBlock(f) for f in fzs]


def _chgnet(physics: bool):
    """Separate blocks so 'chgnet-physics' reuses the cached 'chgnet' block and adds only the physics."""
    from .pretrained import CHGNetFeatures

    blocks = [_PretrainedBlock(CHGNetFeatures.FAST)]
    return blocks + [_PretrainedBlock(CHGNetFeatures.PHYSICS)] if physics else blocks


def _embedding_preset(name: str):
    return ("composition", f"element embedding '{name}' ({EMBEDDINGS[name][0]}) pooled by composition: "
            "fraction-weighted mean and std, min, max per dimension (elementembeddings data)",
            lambda: _cb([ElementEmbedding(name)]))


#: Columns a preset computes (its blocks are cached whole) but leaves out of its table.
_DROP: dict[str, tuple[str, ...]] = {
    "sites+chgnet": ("chgnet max_force (eV/A)", "chgnet pressure (GPa)", "chgnet mean_magmom (muB)"),
}

_PRESETS: dict[str, tuple[str, str, Callable[[], list]]] = {
    "magpie": ("composition", "matminer ElementProperty 'magpie' preset, impute_nan=False (132 element-property "
               "statistics; identical to matminer)", lambda: _cb([_magpie()])),
    "composition-fast": ("composition", "Magpie + Stoichiometry + ValenceOrbital + IonProperty(fast) "
                         "(Ward et al. 2016 general-purpose set)", lambda: _cb(_comp_fast())),
    "composition-full": ("composition", "all composition featurisers: ElementProperty magpie/deml/matminer/"
                         "matscholar_el/megnet_el, Stoichiometry, ValenceOrbital, IonProperty, BandCenter, "
                         "ElementFraction", lambda: _cb(_comp_full())),
    "structure-fast": ("structure", "composition-fast + density/lattice/symmetry/coordination/bond/mass "
                       "structure descriptors", lambda: _cb(_comp_fast()) + [_StructureBlock(StructureFeatures())]),
    "structure-full": ("structure", "composition-full + all structure descriptors (adds RDF, sine-Coulomb "
                       "eigenvalues, Ewald energy, perovskite factors)",
                       lambda: _cb(_comp_full()) + [_StructureBlock(StructureFeatures(StructureFeatures.ALL))]),
    "fractions": ("composition", "element fractions only (ElementFraction, 118 columns): for alloys, where "
                  "which elements and how much matter more than averaged properties",
                  lambda: _cb([C.ElementFraction()])),
    "structure-sites": ("structure", "structure-fast + element fractions + element properties per site role "
                        "(A cation, B cation, anion)",
                        lambda: _cb(_comp_fast() + [C.ElementFraction()])
                        + [_StructureBlock(StructureFeatures()), _StructureBlock(SiteRoleProperties())]),
    "sites+chgnet": ("structure", "element fractions + site-role element properties + CHGNet energy per atom "
                     "(needs assay[pretrained]): the perovskite recipe. Leaner was better there (design folds, delta "
                     "model): adding CHGNet's 64-d embeddings 0.0444 vs 0.0413 eV, its force/pressure/magmom "
                     "0.0401 vs 0.0395, lattice basics on top 0.0409",
                     lambda: _cb([C.ElementFraction()]) + [_StructureBlock(SiteRoleProperties()),
                                                          _PretrainedBlock(("energy",))]),
    "random-control": ("composition", "control: seeded random per-element vectors pooled like Magpie "
                       "(same width, 132)", lambda: _cb([C.RandomElementProperty()])),
    "onehot-control": ("composition", "control: element fractions only (118 one-hot-like columns)",
                       lambda: _cb([C.ElementFraction()])),
    **{f"embedding-{name}": _embedding_preset(name) for name in EMBEDDINGS},
    "chgnet": ("structure", "CHGNet 0.3.0 pretrained potential: 64-d crystal feature, mean/max/min atom features, "
               "energy per atom, max force, pressure, mean magmom (260; needs assay[pretrained])",
               lambda: _chgnet(physics=False)),
    "chgnet-physics": ("structure", "chgnet + physics computed with the potential: Gamma-point frequencies "
                       "(finite differences) and Birch-Murnaghan bulk modulus (267; needs assay[pretrained])",
                       lambda: _chgnet(physics=True)),
    "structure+chgnet": ("structure", "structure-fast + chgnet-physics (needs assay[pretrained])",
                         lambda: _cb(_comp_fast()) + [_StructureBlock(StructureFeatures())] + _chgnet(physics=True)),
}

PRESETS = {k: v[1] for k, v in _PRESETS.items()}


def list_presets() -> dict[str, str]:
    """Preset name -> description ('matminer:ClassName' also works for any matminer featuriser)."""
    return dict(PRESETS)


def default_preset(input_type: str) -> str:
    """The preset assay uses when none is given: the fast full-coverage set for each input type."""
    if input_type == "composition":
        return "composition-fast"
    if input_type == "structure":
        return "structure-fast"
    raise ValueError(f"input_type must be 'composition' or 'structure', not {input_type!r}")


def _blocks(preset: str, input_type: str) -> list:
    if preset.startswith("matminer:"):
        return [_MatminerBlock(preset, kind=input_type)]
    if preset not in _PRESETS:
        raise KeyError(f"Unknown feature preset {preset!r}; known: {', '.join(_PRESETS)} (or matminer:ClassName)")
    needs, _, build = _PRESETS[preset]
    if needs == "structure" and input_type != "structure":
        raise ValueError(f"preset {preset!r} needs structures (input_type='structure'), got {input_type!r}")
    return build()


def _compute_block(b, inp, n_jobs, store, input_hash):
    """One featuriser block, read from the cache when its inputs and parameters were seen before."""
    def run():
        X, err, notes = b.compute(inp, n_jobs)
        rows = [(r, why, "") for r, why in err.items()] + [(r, why, feat) for r, feat, why in notes]
        return (pd.DataFrame(X, columns=b.labels()),
                pd.DataFrame(rows, columns=["row", "reason", "feature"]))

    if store is not None:
        X, failed, hit = store.get_or_compute(inp.values, b.name, b.params(), run, input_hash=input_hash)
    else:
        (X, failed), hit = run(), False
    return X, failed.assign(block=b.name), hit


def featurize(inputs: pd.Series, preset: str = "magpie", *, input_type: str = "composition",
              n_jobs: int = 1, cache: bool = True, progress: bool = True) -> FeatureSet:
    """Featurise formula strings / Compositions, or Structures (composition blocks use their composition)."""
    from .cache import FeatureCache, hash_inputs

    if input_type not in ("composition", "structure"):
        raise ValueError(f"input_type must be 'composition' or 'structure', not {input_type!r}")
    if not isinstance(inputs, pd.Series):
        inputs = pd.Series(list(inputs))
    t0 = time.perf_counter()
    if preset == "auto":
        preset = default_preset(input_type)
    blocks = _blocks(preset, input_type)
    inp = _Inputs(list(inputs.values), input_type)
    store = FeatureCache() if cache else None
    h = hash_inputs(inp.values) + ":" + input_type if cache else None
    parts, fails, hits = [], [], []
    from ..ui import progress_bar

    with progress_bar(progress and len(inp.values) > 1000, f"features ({preset})",
                      total=len(blocks)) as tick:
        for b in blocks:
            parts_, fails_, hit_ = _compute_block(b, inp, n_jobs, store, h)
            parts.append(parts_)
            fails.append(fails_)
            hits.append(hit_)
            tick()
    X = pd.concat(parts, axis=1)
    X.index = inputs.index
    drop = [c for c in _DROP.get(preset, ()) if c in X.columns]
    X = X.drop(columns=drop)
    allf = pd.concat(fails, ignore_index=True) if fails else pd.DataFrame(columns=["row", "reason", "feature", "block"])
    whole = allf[allf["feature"] == ""]
    by_row: dict[int, list[str]] = {}
    for r, why, blk in zip(whole["row"], whole["reason"], whole["block"]):
        by_row.setdefault(int(r), []).append(why if len(blocks) == 1 else f"{blk}: {why}")
    fdf = pd.DataFrame([(r, inputs.index[r], "; ".join(ws)) for r, ws in sorted(by_row.items())],
                       columns=["row", "id", "reason"])
    part = allf[(allf["feature"] != "") & ~allf["feature"].isin(drop)]
    ndf = pd.DataFrame({"row": part["row"].astype(int).to_numpy(),
                        "id": [inputs.index[int(r)] for r in part["row"]],
                        "feature": part["feature"].to_numpy(), "reason": part["reason"].to_numpy()})
    cites = list(dict.fromkeys(c for b in blocks for c in b.citations()))
    return FeatureSet(X, preset, fdf, cites, time.perf_counter() - t0,
                      from_cache=bool(hits) and all(hits), notes=ndf)
