"""The feature presets: named lists of featurisers, each computed and cached on its own.

Presets that share a featuriser (every composition preset contains the Magpie block) share its
cache entry. ``_DROP`` lists columns a preset computes (with a block it shares) but leaves out.
"""
from __future__ import annotations

from typing import Callable

from . import composition as C
from .embeddings import EMBEDDINGS, ElementEmbedding
from .graph import CrystalGraph
from .potential_layers import ChgnetLayers, SevennetLayers
from .pretrained import CHGNetFeatures
from .sites import SiteRoleProperties
from .structure import StructureFeatures

__all__ = ["PRESETS", "list_presets", "default_preset", "preset_featurizers"]


def _magpie():
    return C.ElementProperty.from_preset("magpie", impute_nan=False)


def _comp_fast():
    return [_magpie(), C.Stoichiometry(), C.ValenceOrbital(impute_nan=False),
            C.IonProperty(fast=True, impute_nan=False)]


def _comp_full():
    eps = [C.ElementProperty.from_preset(p, impute_nan=True) for p in ("deml", "matminer", "matscholar_el", "megnet_el")]
    return [_magpie(), *eps, C.Stoichiometry(), C.ValenceOrbital(impute_nan=False),
            C.IonProperty(fast=True, impute_nan=False), C.BandCenter(impute_nan=True), C.ElementFraction()]


def _chgnet(physics: bool):
    """Separate blocks so 'chgnet-physics' reuses the cached 'chgnet' block and adds only the physics."""
    blocks = [CHGNetFeatures(CHGNetFeatures.FAST)]
    return blocks + [CHGNetFeatures(CHGNetFeatures.PHYSICS)] if physics else blocks


def _chgnet_energy():
    return CHGNetFeatures(("energy",))


def _embedding_preset(name: str):
    return ("composition", f"element embedding '{name}' ({EMBEDDINGS[name][0]}) pooled by composition: "
            "fraction-weighted mean and std, min, max per dimension (elementembeddings data)",
            lambda: [ElementEmbedding(name)])


#: Columns a preset computes (its blocks are cached whole) but leaves out of its table.
_DROP: dict[str, tuple[str, ...]] = {
    "sites+chgnet": ("chgnet max_force (eV/A)", "chgnet pressure (GPa)", "chgnet mean_magmom (muB)"),
}

_PRESETS: dict[str, tuple[str, str, Callable[[], list]]] = {
    "magpie": ("composition", "matminer ElementProperty 'magpie' preset, impute_nan=False (132 element-property "
               "statistics; identical to matminer)", lambda: [_magpie()]),
    "composition-fast": ("composition", "Magpie + Stoichiometry + ValenceOrbital + IonProperty(fast) "
                         "(Ward et al. 2016 general-purpose set)", _comp_fast),
    "composition-full": ("composition", "all composition featurisers: ElementProperty magpie/deml/matminer/"
                         "matscholar_el/megnet_el, Stoichiometry, ValenceOrbital, IonProperty, BandCenter, "
                         "ElementFraction", _comp_full),
    "structure-fast": ("structure", "composition-fast + density/lattice/symmetry/coordination/bond/mass "
                       "structure descriptors", lambda: _comp_fast() + [StructureFeatures()]),
    "structure-full": ("structure", "composition-full + all structure descriptors (adds RDF, sine-Coulomb "
                       "eigenvalues, Ewald energy, perovskite factors)",
                       lambda: _comp_full() + [StructureFeatures(StructureFeatures.ALL)]),
    "fractions": ("composition", "element fractions only (ElementFraction, 118 columns): for alloys, where "
                  "which elements and how much matter more than averaged properties",
                  lambda: [C.ElementFraction()]),
    "structure-sites": ("structure", "structure-fast + element fractions + element properties per site role "
                        "(A cation, B cation, anion)",
                        lambda: _comp_fast() + [C.ElementFraction(), StructureFeatures(), SiteRoleProperties()]),
    "sites+chgnet": ("structure", "element fractions + site-role element properties + CHGNet energy per atom "
                     "(needs assay[pretrained]): the perovskite recipe. Leaner was better there (design folds, delta "
                     "model): adding CHGNet's 64-d embeddings 0.0444 vs 0.0413 eV, its force/pressure/magmom "
                     "0.0401 vs 0.0395, lattice basics on top 0.0409",
                     lambda: [C.ElementFraction(), SiteRoleProperties(), _chgnet_energy()]),
    "graph": ("structure", "crystal graph for the 'graph' model: atomic numbers and each atom's 12 nearest "
              "periodic neighbours (index, distance), padded to 64 atoms (1,601 columns; larger cells fail with "
              "a note)", lambda: [CrystalGraph()]),
    "random-control": ("composition", "control: seeded random per-element vectors pooled like Magpie "
                       "(same width, 132)", lambda: [C.RandomElementProperty()]),
    "onehot-control": ("composition", "control: element fractions only (118 one-hot-like columns)",
                       lambda: [C.ElementFraction()]),
    **{f"embedding-{name}": _embedding_preset(name) for name in EMBEDDINGS},
    "chgnet": ("structure", "CHGNet 0.3.0 pretrained potential: 64-d crystal feature, mean/max/min atom features, "
               "energy per atom, max force, pressure, mean magmom (260; needs assay[pretrained])",
               lambda: _chgnet(physics=False)),
    "chgnet-physics": ("structure", "chgnet + physics computed with the potential: Gamma-point frequencies "
                       "(finite differences) and Birch-Murnaghan bulk modulus (267; needs assay[pretrained])",
                       lambda: _chgnet(physics=True)),
    "chgnet-layers": ("structure", "CHGNet 0.3.0's four atom-convolution outputs, each 64 channels averaged over the "
                      "cell (256; needs assay[pretrained]); reduce them in the folds: model 'lgbm-pca'",
                      lambda: [ChgnetLayers(("cell",))]),
    "chgnet-layers-sites": ("structure", "CHGNet's four atom-convolution outputs averaged per site role (A, B, "
                            "anion; 768; needs assay[pretrained]): for fixed prototypes such as perovskites",
                            lambda: [ChgnetLayers(("roles",))]),
    "sevennet-layers": ("structure", "SevenNet-0's five interaction blocks, 128 invariant channels each, averaged "
                        "over the cell (640; needs assay[sevennet], GPL)", lambda: [SevennetLayers(("cell",))]),
    "sevennet-layers-sites": ("structure", "SevenNet-0's five interaction blocks averaged per site role (1,920; "
                              "needs assay[sevennet], GPL)", lambda: [SevennetLayers(("roles",))]),
    "structure-phonons": ("structure", "structure-fast + Gamma-point frequencies and bulk modulus computed with "
                          "CHGNet (182; needs assay[pretrained]): the phonons recipe. Only the physics block: "
                          "it reuses the cache entry of 'chgnet-physics' and skips the 260 embedding columns",
                          lambda: _comp_fast() + [StructureFeatures(), CHGNetFeatures(CHGNetFeatures.PHYSICS)]),
    "structure+chgnet": ("structure", "structure-fast + chgnet-physics (needs assay[pretrained])",
                         lambda: _comp_fast() + [StructureFeatures()] + _chgnet(physics=True)),
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


def preset_featurizers(preset: str, input_type: str) -> list:
    """The featurisers (each cached on its own) that make up a preset."""
    if preset not in _PRESETS:
        raise KeyError(f"Unknown feature preset {preset!r}; known: {', '.join(_PRESETS)} (or matminer:ClassName)")
    needs, _, build = _PRESETS[preset]
    if needs == "structure" and input_type != "structure":
        raise ValueError(f"preset {preset!r} needs structures (input_type='structure'), got {input_type!r}")
    return build()
