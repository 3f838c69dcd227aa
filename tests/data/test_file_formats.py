"""Third-party tables: more file types, id columns by their usual names, text class labels,
missing targets, and tables too small to model; every refusal names the file and what to do."""
import json

import pandas as pd
import pytest

from assay.data.errors import InvalidDataError
from assay.data.user import load_user_data

ROWS = [("mp-1", "NaCl", 1.5), ("mp-2", "KCl", 2.5), ("mp-3", "LiF", 3.5)]


def write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("suffix, sep", [(".tsv", "\t"), (".txt", "\t"), (".txt", ","),
                                         (".txt", ";"), (".csv", ";")])
def test_delimited_files(tmp_path, suffix, sep):
    lines = [sep.join(["mpid", "formula", "y"])] + [sep.join(map(str, r)) for r in ROWS]
    f = write(tmp_path / f"t{suffix}", "\n".join(lines) + "\n")
    ds = load_user_data(f, "y")
    assert list(ds.ids) == ["mp-1", "mp-2", "mp-3"] and ds.target.tolist() == [1.5, 2.5, 3.5]


def test_jsonl_and_pq(tmp_path):
    f = write(tmp_path / "t.jsonl", "\n".join(json.dumps({"jid": i, "formula": x, "y": y})
                                              for i, x, y in ROWS) + "\n")
    assert list(load_user_data(f, "y").ids) == ["mp-1", "mp-2", "mp-3"]
    g = tmp_path / "t.pq"
    pd.DataFrame(ROWS, columns=["Material_ID", "formula", "y"]).to_parquet(g)
    ds = load_user_data(g, "y")
    assert list(ds.ids) == ["mp-1", "mp-2", "mp-3"] and ds.source["id_column"] == "Material_ID"
    bad = write(tmp_path / "b.jsonl", '{"formula": "NaCl", "y": 1}\n{oops\n')
    with pytest.raises(InvalidDataError, match="line 2 is not valid JSON"):
        load_user_data(bad, "y")


@pytest.mark.parametrize("column", ["id", "ID", "mpid", "jid", "material_id", "MPID"])
def test_id_column_detected(tmp_path, column):
    f = write(tmp_path / "t.csv", f"{column},formula,y\n" + "".join(
        f"{i},{x},{y}\n" for i, x, y in ROWS))
    ds = load_user_data(f, "y")
    assert list(ds.ids) == ["mp-1", "mp-2", "mp-3"] and ds.source["id_column"] == column


def test_text_class_labels_keep_their_names(tmp_path):
    f = write(tmp_path / "t.csv", "formula,kind\nFe,metal\nNaCl,nonmetal\nCu,metal\n")
    ds = load_user_data(f, "kind", task_type="classification")
    assert ds.target.tolist() == [0, 1, 0]
    assert ds.class_labels == {0: "metal", 1: "nonmetal"}
    g = write(tmp_path / "b.csv", "formula,is_metal\nFe,True\nNaCl,False\nCu,True\n")
    ds = load_user_data(g, "is_metal")
    assert ds.is_classification and ds.class_labels == {0: "False", 1: "True"}
    h = write(tmp_path / "n.csv", "formula,is_metal\nFe,1\nNaCl,0\nCu,1\n")
    assert load_user_data(h, "is_metal").class_labels is None


def test_missing_targets_named_and_dropped_only_when_asked(tmp_path):
    f = write(tmp_path / "t.csv", "id,formula,y\na,NaCl,1\nb,KCl,\nc,LiF,3\nd,MgO,NaN\ne,CaO,4\n")
    with pytest.raises(InvalidDataError) as err:
        load_user_data(f, "y")
    assert [r for r, _, _ in err.value.problems] == [2, 4]
    assert "--drop-invalid" in str(err.value) and "[id 'b']" in str(err.value)
    ds = load_user_data(f, "y", drop_invalid=True)
    assert list(ds.ids) == ["a", "c", "e"]
    assert [(d["row"], d["id"]) for d in ds.source["dropped_rows"]] == [(2, "b"), (4, "d")]
    assert all("target is missing" in d["reason"] for d in ds.source["dropped_rows"])


def test_too_few_rows_named_with_what_to_do(tmp_path):
    empty = write(tmp_path / "empty.csv", "")
    with pytest.raises(InvalidDataError, match=r"empty.csv is empty: it needs a header row"):
        load_user_data(empty, "y")
    blank = write(tmp_path / "blank.tsv", "\n\n")
    with pytest.raises(InvalidDataError, match=r"blank.tsv is empty"):
        load_user_data(blank, "y")
    header = write(tmp_path / "header.csv", "formula,y\n")
    with pytest.raises(InvalidDataError, match=r"header.csv has no data rows.*add at least 2"):
        load_user_data(header, "y")
    one = write(tmp_path / "one.csv", "formula,y\nNaCl,1\n")
    with pytest.raises(InvalidDataError, match=r"one.csv has 1 data row; a model needs at least 2"):
        load_user_data(one, "y")
    left = write(tmp_path / "left.csv", "formula,y\nNaCl,1\nXx,2\n")
    with pytest.raises(InvalidDataError, match=r"left.csv: only 1 valid row is left"):
        load_user_data(left, "y", drop_invalid=True)
