"""cellcast.chem against the committed RDKit fixtures and, on real SMILES, against RDKit itself."""

import csv
import gzip
import warnings

import numpy as np
import pandas as pd
import pytest

import cellcast
from conftest import GOLDEN, shared_path

PUBLIC = GOLDEN / "chem" / "public"

# cellcast's deliberate differences from RDKit on the public molecules (docs/CHEM_PARITY.md, the
# same list as crates/cellcast-chem/tests/rdkit_parity.rs): the empty SMILES is an error, not an
# empty molecule; ChemAxon's THB: extension is ignored, not refused; the c:/t: double-bond flags of
# CXSMILES are ignored, which shows only in isomeric outputs.
EMPTY = {"e_empty"}
CX_ACCEPTED = {"x_cx_chemaxon_thb"}
CX_STEREO = {"e_cyclooctene_trans_cx", "e_cx_cis_flag", "e_cx_trans_cyclooctene"}


def read_csv(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def molecules():
    rows = read_csv(PUBLIC / "molecules.csv")
    parse = {r["id"]: r for r in read_csv(PUBLIC / "parse.csv")}
    ok = [r for r in rows if parse[r["id"]]["ok"] == "1" and r["id"] not in EMPTY]
    bad = [r for r in rows if parse[r["id"]]["ok"] != "1" and r["id"] not in CX_ACCEPTED]
    return ok, bad, parse


def expected_bits(path, ids, n_bits):
    table = {r["id"]: r for r in read_csv(path)}
    want = np.zeros((len(ids), n_bits), dtype=np.uint8)
    for i, id_ in enumerate(ids):
        for b in table[id_]["on_bits"].split():
            want[i, int(b)] = 1
    return want


@pytest.mark.parametrize(
    "fixture,radius,n_bits,chirality",
    [
        ("morgan_r2_2048.csv", 2, 2048, False),
        ("morgan_r1_4096.csv", 1, 4096, False),
        ("morgan_r3_1024.csv", 3, 1024, False),
        ("morgan_r2_2048_chiral.csv", 2, 2048, True),
    ],
)
def test_morgan_bits_match_rdkit_fixtures(molecules, fixture, radius, n_bits, chirality):
    ok, _, _ = molecules
    if chirality:
        ok = [r for r in ok if r["id"] not in CX_STEREO]
    smiles = [r["smiles"] for r in ok]
    got = cellcast.chem.morgan(smiles, radius=radius, n_bits=n_bits, chirality=chirality)
    assert got.shape == (len(ok), n_bits) and got.dtype == np.uint8
    want = expected_bits(PUBLIC / fixture, [r["id"] for r in ok], n_bits)
    differ = [ok[i]["id"] for i in np.nonzero((got != want).any(axis=1))[0]]
    assert not differ, f"{len(differ)} molecules differ from RDKit: {differ[:5]}"


def test_morgan_counts_match_rdkit_fixture(molecules):
    ok, _, _ = molecules
    got = cellcast.chem.morgan(pd.Series([r["smiles"] for r in ok]), counts=True)
    assert got.shape == (len(ok), 2048) and got.dtype == np.uint32
    table = {r["id"]: r for r in read_csv(PUBLIC / "morgan_counts_r2_2048.csv")}
    for i, r in enumerate(ok):
        want = np.zeros(2048, dtype=np.uint32)
        for pair in table[r["id"]]["counts"].split():
            b, c = pair.split(":")
            want[int(b)] = int(c)
        np.testing.assert_array_equal(got[i], want, err_msg=r["id"])


def test_unreadable_smiles_raise_naming_row_and_reason(molecules):
    ok, bad, parse = molecules
    assert bad, "the public fixture has unreadable molecules"
    smiles = [ok[0]["smiles"], bad[0]["smiles"], ok[1]["smiles"]]
    with pytest.raises(ValueError, match=r"row 1, SMILES") as info:
        cellcast.chem.morgan(smiles)
    assert isinstance(info.value, cellcast.InputError)
    assert "errors='ignore'" in str(info.value)


def test_unreadable_smiles_ignored_give_zero_rows_and_a_warning(molecules):
    ok, bad, _ = molecules
    smiles = [ok[0]["smiles"], bad[0]["smiles"], None]
    with pytest.warns(cellcast.CellcastWarning, match=r"row 1, SMILES") as record:
        got = cellcast.chem.morgan(smiles, errors="ignore")
    assert "row 2" in str(record[0].message)
    assert got[0].sum() > 0 and got[1].sum() == 0 and got[2].sum() == 0
    with pytest.raises(ValueError, match="errors must be"):
        cellcast.chem.morgan(smiles, errors="coerce")


def test_scaffolds_match_rdkit_fixture(molecules):
    ok, _, _ = molecules
    table = {r["id"]: r for r in read_csv(PUBLIC / "scaffold.csv")}
    got = cellcast.chem.scaffolds([r["smiles"] for r in ok])
    assert got == [table[r["id"]]["scaffold"] for r in ok]
    generic_ok = [r for r in ok if not table[r["id"]]["generic_error"]]
    got = cellcast.chem.scaffolds([r["smiles"] for r in generic_ok], generic=True)
    assert got == [table[r["id"]]["generic"] for r in generic_ok]


def test_canonical_smiles_match_rdkit_fixture(molecules):
    ok, _, parse = molecules
    ok = [r for r in ok if r["id"] not in CX_STEREO]
    got = cellcast.chem.canonical_smiles(np.array([r["smiles"] for r in ok], dtype=object))
    assert got == [parse[r["id"]]["canonical"] for r in ok]


def test_unreadable_molecules_give_none_and_a_warning(molecules):
    ok, bad, _ = molecules
    with pytest.warns(cellcast.CellcastWarning, match=r"1 of 2 SMILES could not be read.*\n  row 1"):
        assert cellcast.chem.scaffolds([ok[0]["smiles"], bad[0]["smiles"]])[1] is None
    with pytest.warns(cellcast.CellcastWarning, match=r"row 0, SMILES 'C1CC'"):
        assert cellcast.chem.canonical_smiles(["C1CC", "CCO"]) == [None, "CCO"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cellcast.chem.canonical_smiles(["CCO"])  # no warning when every molecule reads


def test_a_single_string_is_refused():
    with pytest.raises(TypeError, match="sequence of SMILES"):
        cellcast.chem.morgan("CCO")


def test_bad_parameters_raise_value_error():
    with pytest.raises(ValueError):
        cellcast.chem.morgan(["CCO"], n_bits=0)


# --- Against RDKit itself, on real molecules (../shared) -------------------------


@pytest.fixture(scope="module")
def real_smiles():
    # DrugBank compounds of the L1000 task: every one reads in both RDKit and cellcast.
    train = pd.read_csv(shared_path("tasks/l1000-drugbank/train.csv"), usecols=["SMILES"])
    return train["SMILES"].dropna().astype(str).tolist()[:400]


def rdkit_readable(smiles):
    Chem = pytest.importorskip("rdkit.Chem")
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    return [s for s in smiles if Chem.MolFromSmiles(s) is not None]


def test_real_smiles_fingerprints_match_rdkit(real_smiles):
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator

    smiles = rdkit_readable(real_smiles)
    assert len(smiles) == len(real_smiles)
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    want = np.array([gen.GetFingerprintAsNumPy(Chem.MolFromSmiles(s)) for s in smiles], dtype=np.uint8)
    np.testing.assert_array_equal(cellcast.chem.morgan(smiles), want)
    want = np.array([gen.GetCountFingerprintAsNumPy(Chem.MolFromSmiles(s)) for s in smiles], dtype=np.uint32)
    np.testing.assert_array_equal(cellcast.chem.morgan(smiles, counts=True), want)


def test_real_smiles_scaffolds_and_canonical_match_rdkit(real_smiles):
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    smiles = rdkit_readable(real_smiles)
    want = [MurckoScaffold.MurckoScaffoldSmiles(mol=Chem.MolFromSmiles(s)) for s in smiles]
    assert cellcast.chem.scaffolds(smiles) == want
    want = [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in smiles]
    assert cellcast.chem.canonical_smiles(smiles) == want
