"""One featuriser contract: every featuriser is a matminer BaseFeaturizer with one batch hook."""
import importlib
import importlib.util
import inspect
import json
import pkgutil

import numpy as np
import pandas as pd
import pytest
from matminer.featurizers.base import BaseFeaturizer
from pymatgen.core import Composition, Lattice, Structure

import assay.features as F
from assay.features import composition as C
from assay.features.adaptor import MatminerAdaptor
from assay.features.base import BatchResult, Featurizer, instance_identity
from assay.features.embeddings import ElementEmbedding
from assay.features.sites import SiteRoleProperties
from assay.features.structure import StructureFeatures

HAVE_CHGNET = importlib.util.find_spec("chgnet") is not None and importlib.util.find_spec("torch") is not None


def _featurizer_classes():
    out = {}
    for mod in pkgutil.iter_modules(F.__path__):
        m = importlib.import_module(f"assay.features.{mod.name}")
        for name, obj in vars(m).items():
            if inspect.isclass(obj) and obj.__module__ == m.__name__ and hasattr(obj, "feature_labels"):
                out[f"{m.__name__}.{name}"] = obj
    return out


def test_every_featurizer_class_subclasses_the_one_base():
    assert issubclass(Featurizer, BaseFeaturizer)
    classes = _featurizer_classes()
    names = {k.rsplit(".", 1)[1] for k in classes}
    assert {"VectorFeaturizer", "ElementProperty", "IonProperty", "ElementEmbedding", "StructureFeatures",
            "SiteRoleProperties", "CHGNetFeatures", "MatminerAdaptor", "MultipleVectorFeaturizer"} <= names
    outside = [k for k, cls in classes.items() if not issubclass(cls, Featurizer)]
    assert not outside, outside


def _nacl():
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


INSTANCES = [
    C.ElementProperty.from_preset("magpie", impute_nan=False), C.Stoichiometry(), C.ValenceOrbital(),
    C.IonProperty(fast=True), C.ElementFraction(), C.BandCenter(), C.RandomElementProperty(),
    C.MultipleVectorFeaturizer([C.Stoichiometry(), C.BandCenter()]), ElementEmbedding("oliynyk"),
    StructureFeatures(StructureFeatures.ALL), SiteRoleProperties(), MatminerAdaptor("matminer:Stoichiometry"),
    MatminerAdaptor("DensityFeatures"),
]


@pytest.mark.parametrize("fz", INSTANCES, ids=lambda f: type(f).__name__)
def test_contract_of_each_featurizer(fz):
    x = _nacl() if fz.input_kind == "structure" else Composition("Fe2O3")
    row = fz.featurize(x)
    assert len(row) == len(fz.feature_labels()) > 0 and np.isfinite(row).any()
    res = fz.featurize_batch([x, x])
    assert isinstance(res, BatchResult) and res.X.shape == (2, len(row)) and res.errors == [None, None]
    np.testing.assert_array_equal(res.X[0], np.asarray(row, float))
    for lst in (fz.citations(), fz.implementors()):
        assert isinstance(lst, list) and all(isinstance(c, str) for c in lst)
    assert fz.implementors()
    assert isinstance(fz.get_params(), dict)
    json.dumps(fz.cache_params(), default=str)  # the cache key is serialisable
    assert fz.cache_name()


@pytest.mark.skipif(not HAVE_CHGNET, reason="assay[pretrained] not installed")
def test_chgnet_contract():
    from assay.features.pretrained import CHGNetFeatures

    fz = CHGNetFeatures(("energy",))
    res = fz.featurize_batch([_nacl().get_primitive_structure()])
    assert res.X.shape == (1, len(fz.feature_labels())) == (1, 4) and res.errors == [None]
    assert isinstance(fz, Featurizer) and all(isinstance(c, str) for c in fz.citations() + fz.implementors())


class _RowOnly(Featurizer):
    """A user featuriser that implements only featurize."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def featurize(self, comp):
        comp = Composition(comp)
        if "Xe" in comp:
            raise ValueError("no noble gases")
        return [self.scale * comp.num_atoms, len(comp)]

    def feature_labels(self):
        return ["atoms", "elements"]


class _BatchOnly(Featurizer):
    def featurize_batch(self, items):  # a hook that takes no settings is called without them
        items = list(items)
        return BatchResult(np.arange(len(items), dtype=float)[:, None] + 1, [None] * len(items), [])

    def feature_labels(self):
        return ["k"]


def test_default_batch_hook_loops_and_records_failures():
    res = _RowOnly().featurize_batch(["NaCl", "XeF2", "Fe2O3"])
    np.testing.assert_array_equal(res.X[[0, 2]], [[2, 2], [5, 2]])
    assert np.isnan(res.X[1]).all() and res.errors[0] is None and "no noble gases" in res.errors[1]
    assert _BatchOnly().featurize("NaCl") == [1.0]  # per-item through a one-item batch
    assert F.featurize(X3, _BatchOnly(), n_jobs=2, progress=False).X["k"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="no noble gases"):
        _RowOnly().featurize_many(["XeF2"])

    class Neither(Featurizer):
        def feature_labels(self):
            return ["a"]
    with pytest.raises(NotImplementedError):
        Neither().featurize("NaCl")


# --- features= forms --------------------------------------------------------------------------
X3 = pd.Series(["NaCl", "Fe2O3", "Xx"], index=["a", "b", "c"])


def test_matminer_instance():
    from matminer.featurizers.composition import Stoichiometry

    fs = F.featurize(X3, Stoichiometry(), progress=False)
    by_name = F.featurize(X3, "matminer:Stoichiometry", progress=False, cache=False)
    pd.testing.assert_frame_equal(fs.X, by_name.X)
    ref = Stoichiometry().featurize(Composition("Fe2O3"))
    np.testing.assert_array_equal(fs.X.loc["b"].to_numpy(), ref)
    assert fs.X.columns[0] == "Stoichiometry 0-norm" and fs.failed["id"].tolist() == ["c"]
    assert fs.preset == "matminer:Stoichiometry()" and fs.citations and not fs.from_cache
    again = F.featurize(X3, Stoichiometry(), progress=False)
    assert again.from_cache  # cached by class, parameters and source
    changed = F.featurize(X3, Stoichiometry(p_list=(2,)), progress=False)
    assert not changed.from_cache and changed.X.shape == (3, 1)


def test_structure_featurizer_instance_and_composition_one_on_structures(phonon_structures):
    from matminer.featurizers.composition import Stoichiometry
    from matminer.featurizers.structure import DensityFeatures

    s = phonon_structures.iloc[:3]
    fs = F.featurize(s, [DensityFeatures(), Stoichiometry()], input_type="structure", progress=False)
    assert fs.X.shape == (3, 3 + 6) and fs.failed.empty
    np.testing.assert_allclose(fs.X.iloc[0, :3], DensityFeatures().featurize(s.iloc[0]))
    assert fs.X.iloc[0, 3] == len(s.iloc[0].composition)
    with pytest.raises(ValueError, match="needs structures"):
        F.featurize(X3, DensityFeatures(), progress=False)


def test_list_mixes_presets_and_featurizers_and_dedupes_shared_blocks():
    from matminer.featurizers.composition import ElementFraction

    fs = F.featurize(X3, ["magpie", ElementFraction()], progress=False, cache=False)
    assert fs.X.shape == (3, 132 + 118) and fs.X.columns[132] == "ElementFraction H"
    np.testing.assert_array_equal(fs.X.iloc[:, :132], F.featurize(X3, "magpie", progress=False).X)
    both = F.featurize(X3, ["composition-fast", "magpie"], progress=False, cache=False)
    assert both.X.shape == (3, 149) and both.preset == "composition-fast + magpie"  # Magpie once
    with pytest.raises(ValueError, match="same name"):
        F.featurize(X3, [lambda s: pd.DataFrame({"k": np.ones(len(s))})] * 2, progress=False)


def test_callable_features_are_aligned_and_never_cached():
    calls = []

    def n_elements(inputs):
        calls.append(1)
        return pd.DataFrame({"n el": [len(Composition(f)) if f != "Xx" else np.nan for f in inputs]},
                            index=inputs.index)

    fs = F.featurize(X3, ["fractions", n_elements], progress=False)
    assert fs.X["n el"].tolist()[:2] == [2, 2] and fs.X.shape == (3, 119)
    assert "callable" in fs.preset and "n_elements" in fs.preset
    F.featurize(X3, n_elements, progress=False)
    assert len(calls) == 2
    shuffled = F.featurize(X3, lambda s: pd.DataFrame({"v": [1.0, 2.0, 3.0]}, index=["c", "a", "b"]),
                           progress=False)
    assert shuffled.X["v"].tolist() == [2.0, 3.0, 1.0]  # joined on the inputs' index
    with pytest.raises(ValueError, match="rows"):
        F.featurize(X3, lambda s: pd.DataFrame({"v": [1.0]}), progress=False)
    with pytest.raises(TypeError, match="DataFrame"):
        F.featurize(X3, lambda s: s.str.len(), progress=False)


def test_precomputed_frame_joined_by_id():
    table = pd.DataFrame({"dft gap": [1.0, 2.0, 3.0, 9.0], "dft e": [0.1, 0.2, np.nan, 0.9]},
                         index=["id3", "id1", "id2", "extra"])
    fs = F.featurize(X3, table, ids=["id1", "id2", "id3"], progress=False)
    assert fs.X.index.tolist() == ["a", "b", "c"] and fs.X["dft gap"].tolist() == [2.0, 3.0, 1.0]
    assert fs.preset == "precomputed table (2 columns)" and fs.failed.empty and not fs.from_cache
    by_index = F.featurize(pd.Series(["NaCl"], index=["id1"]), table, progress=False)  # ids: the index
    assert by_index.X["dft gap"].tolist() == [2.0]
    with pytest.raises(ValueError, match="'id9'"):
        F.featurize(X3, table, ids=["id1", "id9", "id3"], progress=False)
    with pytest.raises(ValueError, match="3 inputs"):
        F.featurize(X3, table, ids=["id1"], progress=False)


def test_describe_features_is_stable_text():
    from matminer.featurizers.composition import ElementProperty, Stoichiometry

    assert F.describe_features("magpie") == "magpie"
    assert F.describe_features(["magpie", Stoichiometry(p_list=(2,))]) == "magpie + matminer:Stoichiometry(p_list=(2,))"
    ep = F.describe_features(ElementProperty.from_preset("magpie"))
    assert ep == F.describe_features(ElementProperty.from_preset("magpie")) and "0x" not in ep


def test_user_featurizer_cache_identity():
    a, b = instance_identity(_RowOnly()), instance_identity(_RowOnly(scale=2.0))
    assert a and b and a["source"] == b["source"] and a["params"] != b["params"]
    assert a["class"].endswith("_RowOnly")
    ns = {}
    exec("from assay.features.base import Featurizer\nclass Anon(Featurizer):\n"
         "    def featurize(self, x): return [1.0]\n    def feature_labels(self): return ['one']\n", ns)
    assert instance_identity(ns["Anon"]()) is None  # no source: never cached
    fs = F.featurize(X3, ns["Anon"](), progress=False)
    again = F.featurize(X3, ns["Anon"](), progress=False)
    assert fs.X["one"].tolist() == [1.0, 1.0, 1.0] and not again.from_cache
    gases = pd.Series(["NaCl", "XeF2"], index=["ok", "gas"])
    first = F.featurize(gases, _RowOnly(), progress=False)
    assert first.failed["id"].tolist() == ["gas"] and "no noble gases" in first.failed["reason"][0]
    assert F.featurize(gases, _RowOnly(), progress=False).from_cache


def test_featurize_passes_processes_and_threads_separately(monkeypatch):
    from assay.features import pretrained as P

    seen = []

    def record(self, items, *, n_jobs=1, threads=None):
        seen.append((n_jobs, threads))
        items = list(items)
        return BatchResult(np.zeros((len(items), len(self.feature_labels()))), [None] * len(items), [])

    monkeypatch.setattr(P, "require_chgnet", lambda: None)
    monkeypatch.setattr(P.CHGNetFeatures, "featurize_batch", record)
    F.featurize(pd.Series([_nacl()]), "chgnet", input_type="structure", n_jobs=2, cache=False, progress=False)
    F.featurize(pd.Series([_nacl()]), "chgnet", input_type="structure", n_jobs=2, threads=3, cache=False,
                progress=False)
    assert seen == [(2, 1), (2, 3)]  # n_jobs never becomes torch's thread count


@pytest.mark.skipif(not HAVE_CHGNET, reason="assay[pretrained] not installed")
def test_chgnet_worker_uses_the_thread_setting(monkeypatch):
    import torch

    from assay.features import pretrained as P

    fz = P.CHGNetFeatures(("energy",), chunk=2)
    seen = []
    monkeypatch.setattr(P.CHGNetFeatures, "_run", lambda self, s, X, e, n: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    P._chunk(fz, [_nacl()], 0, threads=1)
    P._chunk(fz, [_nacl()], 0, threads=2)
    assert seen == [1, 2] and torch.get_num_threads() == before


@pytest.mark.skipif(not HAVE_CHGNET, reason="assay[pretrained] not installed")
def test_chgnet_two_processes_equal_one(phonon_structures):
    from assay.features.pretrained import CHGNetFeatures

    s = list(phonon_structures.iloc[:6])
    fz = CHGNetFeatures(("embedding", "energy"), chunk=2)  # 3 chunks over 2 worker processes
    one = fz.featurize_batch(s, n_jobs=1)
    two = fz.featurize_batch(s, n_jobs=2)
    assert one.X.shape == (6, 260) and np.isfinite(one.X).all()
    np.testing.assert_array_equal(one.X, two.X)  # bit for bit: same batches, one thread each
    assert one.errors == two.errors == [None] * 6
