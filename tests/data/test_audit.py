"""audit: statistics, outliers, duplicates and fold overlap checked against hand-counted data."""
import json
import time

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure

from assay.data.audit import audit, chemistry_overlap, iqr_outliers, zscore_outliers
from assay.data.chemistry import (chemical_system, composition_key, element_set, formula_problem,
                                  parse_formula, reduced_formula)
from assay.data.dataset import Dataset


def formulas(rows, task_type="regression", name="toy"):
    ids = [r[0] for r in rows]
    return Dataset(name, pd.Series([r[1] for r in rows], index=ids),
                   pd.Series([r[2] for r in rows], index=ids), "composition", task_type, "y")


# a/c: same formula string; a/b/c: same reduced formula; a/b/c/d: same composition (Fe 0.4 O 0.6)
TOY = [("a", "Fe2O3", 1.0), ("b", "Fe4O6", 1.05), ("c", "Fe2O3", 3.0), ("d", "Fe0.4O0.6", 2.0),
       ("e", "NaCl", 0.5), ("f", "NaCl", 0.5), ("g", "LiF", 10.0), ("h", "MgO", 0.7)]


def groups(report, level):
    return {tuple(g["ids"]): g["conflicting"] for g in report.duplicates[level]["groups"]}


def test_chemistry_helpers():
    assert reduced_formula("Fe4O6") == "Fe2O3"
    assert element_set("Fe2O3") == frozenset({"Fe", "O"})
    assert chemical_system("OFe2") == "Fe-O"
    assert composition_key("Fe4O6") == composition_key("Fe0.4O0.6") == (("Fe", 0.4), ("O", 0.6))
    assert formula_problem("Fe2O3") is None
    assert formula_problem("Ab3") == "unknown element Ab in formula 'Ab3'"
    assert formula_problem("  ") == "empty formula"
    assert formula_problem("Fe0O") == "non-positive amount for Fe in formula 'Fe0O'"
    assert "cannot parse" in formula_problem("Fe2O3)")
    assert parse_formula("D2O").reduced_formula == "H2O"


def test_duplicates_three_levels():
    r = audit(formulas(TOY), conflict_tol=0.1)
    assert groups(r, "formula") == {("a", "c"): True, ("e", "f"): False}
    assert groups(r, "reduced_formula") == {("a", "b", "c"): True, ("e", "f"): False}
    assert groups(r, "composition") == {("a", "b", "c", "d"): True, ("e", "f"): False}
    comp = r.duplicates["composition"]
    assert comp["n_groups"] == 2 and comp["n_rows"] == 6 and comp["n_extra_rows"] == 4
    assert comp["n_conflicting"] == 1
    assert comp["groups"][0]["range"] == pytest.approx(2.0)
    assert comp["groups"][0]["key"] == "Fe:0.4 O:0.6"
    # a wide tolerance: the Fe-O group (range 2.0) no longer conflicts
    assert audit(formulas(TOY), conflict_tol=2.5).duplicates["composition"]["n_conflicting"] == 0


def test_default_tolerance_is_tenth_of_robust_scale():
    r = audit(formulas(TOY))
    y = np.array([t for *_, t in TOY])
    mad = np.median(np.abs(y - np.median(y)))  # by hand: median 1.025, MAD 0.525
    assert mad == pytest.approx(0.525)
    assert r.duplicates["conflict_tolerance"] == pytest.approx(0.1 * 1.4826 * mad)


def test_target_stats_and_outliers():
    r = audit(formulas(TOY))
    t = r.target
    assert t["count"] == 8 and t["min"] == 0.5 and t["max"] == 10.0
    assert t["mean"] == pytest.approx(18.75 / 8)
    # sorted 0.5 0.5 0.7 1 1.05 2 3 10: Q1 = 0.65, Q3 = 2.25, IQR 1.6 -> fences -1.75, 4.65
    assert t["q1"] == pytest.approx(0.65) and t["q3"] == pytest.approx(2.25)
    iqr = r.outliers["iqr"]
    assert iqr["lower_fence"] == pytest.approx(-1.75) and iqr["upper_fence"] == pytest.approx(4.65)
    assert iqr["count"] == 1 and iqr["ids"] == ["g"]
    assert r.outliers["zscore"]["count"] == 0  # with 8 rows |z| cannot exceed 7/sqrt(8) < 3
    assert any("skewed to the right" in n and "log" in n for n in r.notes)


def test_zscore_by_hand():
    # 19 zeros and a 10: mean 0.5, std sqrt(5), z of the 10 = 9.5 / 2.236 = 4.25
    y = np.array([0.0] * 19 + [10.0])
    assert np.flatnonzero(zscore_outliers(y)).tolist() == [19]
    mask, lo, hi = iqr_outliers(y)
    assert mask.sum() == 1 and lo == hi == 0.0


def test_sizes_and_missing():
    ds = formulas([("a", "Fe2O3", 1.0), ("b", "NaCl", np.nan), ("c", "BaTiO3", 2.0)])
    r = audit(ds)
    assert r.missing == {"composition": 0, "y": 1}
    assert r.input_size["n_elements"]["min"] == 2 and r.input_size["n_elements"]["max"] == 3
    assert r.input_size["atoms_per_formula_unit"]["mean"] == pytest.approx((5 + 2 + 5) / 3)
    assert r.target["count"] == 2


def test_overlap_by_hand():
    ds = formulas([("0", "Fe2O3", 1), ("1", "NaCl", 2), ("2", "LiF", 3), ("3", "FeO", 4),
                   ("4", "NaF", 5), ("5", "KBr", 6)])
    folds = [(np.array([0, 1, 2]), np.array([3, 4, 5])), (np.array([3, 4, 5]), np.array([0, 1, 2]))]
    ov = audit(ds, folds=folds).overlap
    f0, f1 = ov["folds"]
    # fold 0: FeO's Fe-O is in training; NaF's elements are, its system is not; KBr is new
    assert f0["chemsys_seen_share"] == pytest.approx(1 / 3)
    assert f0["elements_seen_share"] == pytest.approx(2 / 3)
    assert f0["formula_seen_share"] == 0
    # fold 1: Fe2O3's Fe-O is seen; Cl and Li are not in training
    assert f1["chemsys_seen_share"] == pytest.approx(1 / 3)
    assert f1["elements_seen_share"] == pytest.approx(1 / 3)
    assert ov["mean_chemsys_seen_share"] == pytest.approx(1 / 3)
    assert ov["mean_elements_seen_share"] == pytest.approx(0.5)
    assert chemistry_overlap(ds, folds) == ov


def rocksalt(a, species=("Na", "Cl")):
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), list(species),
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture(scope="module")
def structures():
    items = [rocksalt(5.64), rocksalt(5.70),                                      # NaCl Fm-3m x2
             Structure(Lattice.cubic(3.3), ["Na", "Cl"], [[0, 0, 0], [.5, .5, .5]]),  # NaCl Pm-3m
             rocksalt(6.6, ("K", "Br")), rocksalt(6.6, ("K", "Br"))]               # KBr Fm-3m x2
    ids = list("stuvw")
    return Dataset("s", pd.Series(items, index=ids), pd.Series([1.0, 1.01, 2.0, 3.0, 5.0], index=ids),
                   "structure", "regression", "y")


def test_structure_duplicates_and_sizes(structures):
    r = audit(structures, conflict_tol=0.5)
    assert groups(r, "reduced_formula") == {("s", "t", "u"): True, ("v", "w"): True}
    assert groups(r, "structure") == {("s", "t"): False, ("v", "w"): True}
    st = r.duplicates["structure"]
    assert st["sampled"] is False and st["n_candidates"] == 5 and st["n_checked"] == 5
    assert r.input_size["n_sites"]["max"] == 8 and r.input_size["n_sites"]["min"] == 2
    assert r.input_size["volume_per_atom"]["min"] == pytest.approx(3.3 ** 3 / 2)


def test_structure_symmetry_sampled_above_limit(structures):
    r = audit(structures, max_symmetry=2)
    st = r.duplicates["structure"]
    # only the KBr pair fits under the limit of 2 structures
    assert st["sampled"] is True and st["n_checked"] == 2
    assert [g["ids"] for g in st["groups"]] == [["v", "w"]]
    assert any("Space groups were computed for 2 of the 5" in n for n in r.notes)


def test_classification_report_and_conflicts():
    ds = formulas([("a", "NaCl", 1), ("b", "NaCl", 0), ("c", "Fe", 1), ("d", "Cu", 1)],
                  "classification")
    r = audit(ds)
    assert r.target["class_counts"] == {"0": 1, "1": 3}
    assert r.target["minority_share"] == 0.25 and r.target["imbalance_ratio"] == 3
    assert r.outliers is None
    assert groups(r, "formula") == {("a", "b"): True}


def test_plots_and_json(tmp_path):
    r = audit(formulas(TOY), out_dir=tmp_path / "plots")
    assert [p.rsplit("/", 1)[-1] for p in r.plots] == ["target_hist.png", "target_box.png",
                                                       "input_sizes.png"]
    for p in r.plots:
        with open(p, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["duplicates"]["formula"]["groups"][0]["ids"] == ["a", "c"]
    assert r.summary()[0].startswith("toy: 8 rows")


def test_expt_gap_is_fast():
    from assay.data.folds import official_folds
    from assay.data.loading import load_task

    ds = load_task("expt_gap")
    folds = official_folds("expt_gap", ds.y())
    start = time.perf_counter()
    r = audit(ds, folds=folds)
    assert time.perf_counter() - start < 10
    assert r.n_rows == 4604 and r.target["count"] == 4604
    assert len(r.overlap["folds"]) == 5
    for f in r.overlap["folds"]:
        assert 0 <= f["chemsys_seen_share"] <= f["elements_seen_share"] <= 1
    json.dumps(r.to_dict(), allow_nan=False)
