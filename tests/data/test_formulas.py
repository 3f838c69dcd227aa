"""Hydrate notation: read as hydrates by the one formula reader, never as a decimal amount."""
import pandas as pd
import pytest
from pymatgen.core import Composition

from assay.data.chemistry import FormulaError, normalise_formula, parse_formula
from assay.data.dataset import Dataset
from assay.data.errors import InvalidDataError
from assay.data.user import load_user_data, parse_formula_column

CUSO4_5H2O = {"Cu": 1, "S": 1, "O": 9, "H": 10}


@pytest.mark.parametrize("text, amounts", [
    ("CuSO4.5H2O", CUSO4_5H2O),
    ("CuSO4·5H2O", CUSO4_5H2O),
    ("CuSO4*5H2O", CUSO4_5H2O),
    ("CuSO4 · 5 H2O", CUSO4_5H2O),
    ("Na2CO3.10H2O", {"Na": 2, "C": 1, "O": 13, "H": 20}),
    ("CaSO4.0.5H2O", {"Ca": 1, "S": 1, "O": 4.5, "H": 1}),
    ("LiCl.H2O", {"Li": 1, "Cl": 1, "H": 2, "O": 1}),
    ("KAl(SO4)2·12H2O", {"K": 1, "Al": 1, "S": 2, "O": 20, "H": 24}),
    ("KCl.MgCl2.6H2O", {"K": 1, "Mg": 1, "Cl": 3, "H": 12, "O": 6}),
    ("CaCl2·2NH3", {"Ca": 1, "Cl": 2, "N": 2, "H": 6}),
])
def test_hydrates_read_as_hydrates(text, amounts):
    assert parse_formula(text).get_el_amt_dict() == pytest.approx(amounts)
    # the stored text reads the same through plain pymatgen, as featurisers read it
    assert Composition(normalise_formula(text)).get_el_amt_dict() == pytest.approx(amounts)


@pytest.mark.parametrize("text, amounts", [
    ("Fe0.95O", {"Fe": 0.95, "O": 1}),
    ("Li0.5CoO2", {"Li": 0.5, "Co": 1, "O": 2}),
    ("Fe2.5O4", {"Fe": 2.5, "O": 4}),
    ("Ba.5Sr.5TiO3", {"Ba": 0.5, "Sr": 0.5, "Ti": 1, "O": 3}),
    ("Li0.5H2O", {"Li": 0.5, "H": 2, "O": 1}),  # a 0 before the dot: a decimal, not Li0 + 5 H2O
])
def test_decimal_amounts_stay_decimal(text, amounts):
    assert parse_formula(text).get_el_amt_dict() == pytest.approx(amounts)
    assert normalise_formula(text) == text


@pytest.mark.parametrize("text, why", [
    ("CuSO4.0H2O", "hydrate count 0"),
    ("·H2O", "nothing before"),
    ("CuSO4·", "no formula unit"),
    ("CuSO4·5Xx", "unknown element Xx"),
])
def test_bad_hydrates_refused(text, why):
    with pytest.raises(FormulaError, match=why):
        parse_formula(text)


def test_loader_stores_hydrates_pymatgen_can_read(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("id,formula,y\na,CuSO4.5H2O,1\nb,CuSO4·5H2O,2\nc,Fe0.95O,3\nd,NaCl,4\n")
    ds = load_user_data(f, "y")
    assert list(ds.inputs) == ["CuSO4(H2O)5", "CuSO4(H2O)5", "Fe0.95O", "NaCl"]
    assert [c.get_el_amt_dict() for c in ds.compositions()][:2] == [CUSO4_5H2O] * 2


def test_loader_names_the_row_of_a_bad_hydrate(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("id,formula,y\na,CuSO4.0H2O,1\nb,NaCl,2\nc,KCl,3\n")
    with pytest.raises(InvalidDataError) as err:
        load_user_data(f, "y")
    assert [(r, c) for r, c, _ in err.value.problems] == [(1, "formula")]
    assert "hydrate count 0" in str(err.value) and "[id 'a']" in str(err.value)


def test_dataset_compositions_read_hydrates():
    ds = Dataset("t", pd.Series(["CuSO4·5H2O", "Fe2O3"]), pd.Series([1.0, 2.0]), "composition",
                 "regression", "y")
    assert ds.compositions()[0].get_el_amt_dict() == CUSO4_5H2O


def test_formula_column_for_prediction():
    out = parse_formula_column(pd.Series(["CuSO4*5H2O", " NaCl"], index=[7, 8], name="formula"))
    assert list(out) == ["CuSO4(H2O)5", "NaCl"] and list(out.index) == [7, 8]
    with pytest.raises(InvalidDataError) as err:
        parse_formula_column(["NaCl", "CuSO4.0H2O"])
    assert [(r, c) for r, c, _ in err.value.problems] == [(2, "formula")]
