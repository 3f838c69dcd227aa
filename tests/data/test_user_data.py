"""load_user_data: every supported layout, and every bad input reported by row, id and reason."""
import hashlib
import json

import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure

from assay.data.errors import InvalidDataError
from assay.data.user import (infer_task_type, load_user_data, parse_structure,
                             parse_structure_column)


def nacl(a=5.64):
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


def cscl(a=4.1):
    return Structure(Lattice.cubic(a), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def write(path, text):
    path.write_text(text)
    return path


def problem_rows(exc):
    return {(r, why.split(" [id")[0]) for r, _, why in exc.problems}


# ------------------------------------------------------------------------------ good inputs
def test_csv_formula_autodetect_case_insensitive(tmp_path):
    f = write(tmp_path / "gaps.csv", "id,Formula,gap\nm1,Fe2O3,2.1\nm2,NaCl,8.5\nm3, LiF ,13.6\n")
    ds = load_user_data(f, "gap")
    assert ds.input_type == "composition" and ds.task_type == "regression"
    assert list(ds.ids) == ["m1", "m2", "m3"]
    assert list(ds.inputs) == ["Fe2O3", "NaCl", "LiF"]
    assert ds.target.tolist() == [2.1, 8.5, 13.6]
    assert ds.name == "gaps" and ds.target_name == "gap" and ds.task is None
    assert ds.source["kind"] == "user"
    assert ds.source["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
    assert ds.source["path"].endswith("gaps.csv")
    assert ds.source["input_column"] == "Formula" and ds.source["id_column"] == "id"
    assert ds.y().dtype.kind == "f"


def test_csv_without_id_names_rows(tmp_path):
    f = write(tmp_path / "t.csv", "composition,y\nFe2O3,1\nNaCl,2\n")
    ds = load_user_data(f, "y", name="mine")
    assert list(ds.ids) == ["row-1", "row-2"] and ds.name == "mine"


def test_json_records_with_pymatgen_dicts(tmp_path):
    rows = [{"mid": "a", "structure": nacl().as_dict(), "e": -1.5},
            {"mid": "b", "structure": cscl().as_dict(), "e": -2.0}]
    f = write(tmp_path / "s.json", json.dumps(rows))
    ds = load_user_data(f, "e", id_column="mid")
    assert ds.input_type == "structure"
    assert list(ds.ids) == ["a", "b"]
    assert ds.inputs["a"].composition.reduced_formula == "NaCl"
    assert ds.inputs["b"].composition.reduced_formula == "CsCl"


def test_json_split_orient_and_dict_in_dataframe(tmp_path):
    split = {"index": ["x1", "x2"], "columns": ["formula", "t"], "data": [["Fe2O3", 1.0],
                                                                       ["MgO", 7.8]]}
    f = write(tmp_path / "split.json", json.dumps(split))
    ds = load_user_data(f, "t")
    assert list(ds.ids) == ["x1", "x2"] and list(ds.inputs) == ["Fe2O3", "MgO"]


def test_parquet(tmp_path):
    f = tmp_path / "t.parquet"
    pd.DataFrame({"name": ["p", "q"], "formula": ["Fe2O3", "SiO2"], "k": [1.5, 2.5]}).to_parquet(f)
    ds = load_user_data(f, "k", id_column="name")
    assert list(ds.ids) == ["p", "q"] and ds.target.tolist() == [1.5, 2.5]


def test_poscar_and_cif_text_columns(tmp_path):
    df = pd.DataFrame({"id": ["a", "b"], "poscar": [nacl().to(fmt="poscar"), cscl().to(fmt="poscar")],
                       "y": [1.0, 2.0]})
    f = tmp_path / "p.csv"
    df.to_csv(f, index=False)
    ds = load_user_data(f, "y")
    assert ds.input_type == "structure" and len(ds.inputs["a"]) == 8

    f3 = tmp_path / "d.csv"
    pd.DataFrame({"structure": [json.dumps(cscl().as_dict())] * 2, "y": [1.0, 2.0]}).to_csv(
        f3, index=False)
    assert load_user_data(f3, "y").inputs.iloc[0].composition.reduced_formula == "CsCl"

    rows = [{"cif": nacl().to(fmt="cif"), "y": 1.0}, {"cif": cscl().to(fmt="cif"), "y": 3.0}]
    f2 = write(tmp_path / "c.json", json.dumps(rows))
    ds2 = load_user_data(f2, "y")
    assert [s.composition.reduced_formula for s in ds2.inputs] == ["NaCl", "CsCl"]


def test_named_input_column_detects_structures(tmp_path):
    df = pd.DataFrame({"crystal": [nacl().to(fmt="cif"), cscl().to(fmt="cif")], "y": [1.0, 2.0]})
    ds = load_user_data(df, "y", input_column="crystal")
    assert ds.input_type == "structure"
    assert ds.source["path"] == "the DataFrame" and len(ds.source["sha256"]) == 64


def test_cif_folder(tmp_path):
    folder = tmp_path / "cifs"
    folder.mkdir()
    (folder / "mp-1.cif").write_text(nacl().to(fmt="cif"))
    (folder / "mp-2.cif").write_text(cscl().to(fmt="cif"))
    f = write(tmp_path / "targets.csv", "material_id,bulk\nmp-1,24.0\nmp-2,18.0\n")
    ds = load_user_data(f, "bulk", structures_dir=folder)
    assert list(ds.ids) == ["mp-1", "mp-2"] and ds.input_type == "structure"
    assert ds.source["n_structure_files"] == 2 and len(ds.source["structures_sha256"]) == 64
    assert ds.source["id_column"] == "material_id"


def test_cif_folder_id_column_found_by_file_names(tmp_path):
    folder = tmp_path / "cifs"
    folder.mkdir()
    (folder / "x.cif").write_text(nacl().to(fmt="cif"))
    (folder / "z.cif").write_text(cscl().to(fmt="cif"))
    f = write(tmp_path / "t.csv", "key,y\nx.cif,1\nz,2\n")
    ds = load_user_data(f, "y", structures_dir=folder)
    assert list(ds.ids) == ["x.cif", "z"]


def test_cif_folder_problems(tmp_path):
    folder = tmp_path / "cifs"
    folder.mkdir()
    (folder / "a.cif").write_text(nacl().to(fmt="cif"))
    (folder / "b.cif").write_text("data_broken\nthis is not a cif\n")
    (folder / "d.cif").write_text(cscl().to(fmt="cif"))
    f = write(tmp_path / "t.csv", "id,y\na,1\nb,2\nc,3\nd,4\n")
    with pytest.raises(InvalidDataError) as err:
        load_user_data(f, "y", structures_dir=folder)
    rows = {r: why for r, _, why in err.value.problems}
    assert set(rows) == {2, 3}
    assert "unparsable CIF b.cif" in rows[2] and "[id 'b']" in rows[2]
    assert "missing CIF file 'c.cif'" in rows[3]
    assert "row 3" in str(err.value) and "missing CIF file" in str(err.value)
    ds = load_user_data(f, "y", structures_dir=folder, drop_invalid=True)
    assert list(ds.ids) == ["a", "d"]
    assert [d["row"] for d in ds.source["dropped_rows"]] == [2, 3]


# ---------------------------------------------------------------------- bad rows, all listed
BAD_CSV = """id,formula,gap
ok1,Fe2O3,1.0
b,Xx2O,2.0
c,,3.0
d,Fe0O,1.0
e,Fe-1O2,1.0
f,NaCl,abc
g,MgO,
ok1,LiF,4.0
h,KBr,nan
i,SiO2,0.5
"""


def test_every_bad_row_reported(tmp_path):
    f = write(tmp_path / "bad.csv", BAD_CSV)
    with pytest.raises(InvalidDataError) as err:
        load_user_data(f, "gap")
    got = problem_rows(err.value)
    assert (2, "unknown element Xx in formula 'Xx2O'") in got
    assert (3, "empty formula") in got
    assert (4, "non-positive amount for Fe in formula 'Fe0O'") in got
    assert (5, "non-positive amount in formula 'Fe-1O2'") in got
    assert (6, "target 'abc' is not a number") in got
    assert (7, "target is missing (empty or NaN)") in got
    assert (8, "duplicated id 'ok1' (first seen in row 1)") in got
    assert (9, "target is missing (empty or NaN)") in got
    assert {r for r, _ in got} == {2, 3, 4, 5, 6, 7, 8, 9}
    msg = str(err.value)
    assert "8 of 10 rows are invalid" in msg
    assert "row 2: formula: unknown element Xx" in msg and "[id 'b']" in msg
    assert "row 8: id: duplicated id 'ok1'" in msg


def test_drop_invalid_keeps_good_rows_and_lists_dropped(tmp_path):
    f = write(tmp_path / "bad.csv", BAD_CSV)
    before = f.read_bytes()
    ds = load_user_data(f, "gap", drop_invalid=True)
    assert list(ds.ids) == ["ok1", "i"]
    dropped = ds.source["dropped_rows"]
    assert [d["row"] for d in dropped] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert dropped[0] == {"row": 2, "id": "b",
                          "reason": "formula: unknown element Xx in formula 'Xx2O'"}
    assert dropped[6]["id"] == "ok1" and "duplicated id" in dropped[6]["reason"]
    assert f.read_bytes() == before


def test_bad_structure_text(tmp_path):
    df = pd.DataFrame({"structure": [nacl().to(fmt="poscar"), "Na Cl\n1.0\nbroken", "{not json",
                                     ""], "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(InvalidDataError) as err:
        load_user_data(df, "y")
    rows = {r: why for r, _, why in err.value.problems}
    assert set(rows) == {2, 3, 4}
    assert rows[2].startswith("unparsable POSCAR")
    assert rows[3].startswith("unparsable pymatgen structure dict")
    assert rows[4] == "empty structure"


def test_parse_structure_column():
    col = pd.Series([nacl().to(fmt="cif"), "garbage\ntext"], index=[10, 11], name="cif")
    with pytest.raises(InvalidDataError) as err:
        parse_structure_column(col)
    assert [(r, c) for r, c, _ in err.value.problems] == [(2, "cif")]
    out = parse_structure_column(col.iloc[:1])
    assert list(out.index) == [10] and out.iloc[0].composition.reduced_formula == "NaCl"


def test_one_class_inferred_from_words(tmp_path):
    f = write(tmp_path / "t.csv", "formula,metal\nFe,true\nCu,TRUE\n")
    with pytest.raises(InvalidDataError, match="one class only"):
        load_user_data(f, "metal")


def test_unknown_element_in_structure():
    cif = nacl().to(fmt="cif").replace("Cl", "Qq")
    with pytest.raises(ValueError, match="unknown element Qq"):
        parse_structure(cif)


def test_many_problems_all_kept(tmp_path):
    lines = "\n".join(f"r{i},Zz{i}," for i in range(70))
    f = write(tmp_path / "many.csv", "id,formula,y\n" + lines + "\nok,NaCl,1\n")
    with pytest.raises(InvalidDataError) as err:
        load_user_data(f, "y")
    assert len(err.value.problems) == 140  # formula and target of 70 rows
    assert "... and 90 more" in str(err.value)


# -------------------------------------------------------------------------------- refusals
def test_missing_file(tmp_path):
    with pytest.raises(InvalidDataError, match="does not exist"):
        load_user_data(tmp_path / "nope.csv", "y")


def test_empty_file(tmp_path):
    f = write(tmp_path / "e.csv", "")
    with pytest.raises(InvalidDataError, match="is empty"):
        load_user_data(f, "y")
    g = write(tmp_path / "h.csv", "formula,y\n")
    with pytest.raises(InvalidDataError, match="no data rows"):
        load_user_data(g, "y")
    j = write(tmp_path / "e.json", "[]")
    with pytest.raises(InvalidDataError, match="no data rows"):
        load_user_data(j, "y")


def test_missing_target_column_lists_columns(tmp_path):
    f = write(tmp_path / "t.csv", "formula,band_gap\nNaCl,1\n")
    with pytest.raises(InvalidDataError) as err:
        load_user_data(f, "gap")
    msg = str(err.value)
    assert "no target column 'gap'" in msg and "'formula', 'band_gap'" in msg


def test_missing_input_column(tmp_path):
    f = write(tmp_path / "t.csv", "material,y\nNaCl,1\n")
    with pytest.raises(InvalidDataError, match="no input column.*'material', 'y'"):
        load_user_data(f, "y")
    with pytest.raises(InvalidDataError, match="no input column 'chem'"):
        load_user_data(f, "y", input_column="chem")


def test_unknown_file_type(tmp_path):
    f = write(tmp_path / "t.xlsx", "x")
    with pytest.raises(InvalidDataError, match="unknown file type"):
        load_user_data(f, "y")


def test_nothing_left_after_dropping(tmp_path):
    f = write(tmp_path / "t.csv", "formula,y\nXx,1\nNaCl,\n")
    with pytest.raises(InvalidDataError, match="no valid rows are left") as err:
        load_user_data(f, "y", drop_invalid=True)
    assert {r for r, _, _ in err.value.problems} == {1, 2}


def test_one_class_only(tmp_path):
    f = write(tmp_path / "t.csv", "formula,metal\nNaCl,true\nFe,true\nXx,false\n")
    with pytest.raises(InvalidDataError, match="one class only"):
        load_user_data(f, "metal", task_type="classification", drop_invalid=True)


def test_missing_cif_folder(tmp_path):
    f = write(tmp_path / "t.csv", "id,y\na,1\n")
    with pytest.raises(InvalidDataError, match="does not exist"):
        load_user_data(f, "y", structures_dir=tmp_path / "none")


# ---------------------------------------------------------------------------- task type
@pytest.mark.parametrize("values, expected", [
    ([True, False, True], "classification"),
    (["true", "FALSE", "True"], "classification"),
    (["yes", "no"], "classification"),
    ([0, 1, 1, 0], "classification"),
    (["0", "1.0", "1"], "classification"),
    ([0, 1, 2], "regression"),
    ([1, 1, 1], "regression"),
    (["true", "true"], "classification"),  # then refused as one class
    ([0.0, 0.5, 1.0], "regression"),
    (["a", "b"], "regression"),
    ([0, 1, None, float("nan")], "classification"),
])
def test_infer_task_type(values, expected):
    assert infer_task_type(values) == expected


def test_classification_loading(tmp_path):
    f = write(tmp_path / "t.csv", "formula,is_metal\nFe,True\nNaCl,False\nCu,true\n")
    ds = load_user_data(f, "is_metal")
    assert ds.task_type == "classification" and ds.target.tolist() == [1, 0, 1]
    assert ds.source["task_type_inferred"] is True
    g = write(tmp_path / "w.csv", "formula,kind\nFe,metal\nNaCl,insulator\nCu,metal\n")
    ds = load_user_data(g, "kind", task_type="classification")
    assert ds.target.tolist() == [1, 0, 1]
    assert ds.source["class_labels"] == {0: "insulator", 1: "metal"}
    with pytest.raises(InvalidDataError, match="task_type='classification'"):
        load_user_data(g, "kind")


def test_dataframe_not_modified():
    df = pd.DataFrame({"Formula": [" Fe2O3", "Xx", "NaCl", "MgO "], "y": ["1", "2", None, "3"]})
    copy = df.copy(deep=True)
    ds = load_user_data(df, "y", drop_invalid=True)
    assert list(ds.inputs) == ["Fe2O3", "MgO"]
    pd.testing.assert_frame_equal(df, copy)
