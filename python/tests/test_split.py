import csv

import numpy as np
import pandas as pd
import pytest

import cellcast
from conftest import GOLDEN, shared_path

SMILES = [
    "c1ccccc1C", "c1ccccc1CC", "c1ccccc1CCC", "C1CCCCC1O", "C1CCCCC1N", "c1ccncc1", "c1ccncc1C",
    "CCO", "CCN", "O=C(O)c1ccccc1", "c1ccc2ccccc2c1", "c1ccc2ccccc2c1O",
]


def test_scaffold_kfold_keeps_each_scaffold_in_one_fold():
    folds = cellcast.split(SMILES, folds=3, seed=0)
    assert folds.dtype == np.int64 and folds.shape == (len(SMILES),)
    assert set(folds.tolist()) == {0, 1, 2}
    scaffolds = cellcast.chem.scaffolds(SMILES)
    for s in set(scaffolds):
        assert len({f for f, t in zip(folds, scaffolds) if t == s}) == 1, s


def test_random_kfold_is_seeded():
    a = cellcast.split(SMILES, method="random-kfold", folds=3, seed=1)
    assert (a == cellcast.split(SMILES, method="random_kfold", folds=3, seed=1)).all()
    assert np.bincount(a).tolist() == [4, 4, 4]


def test_train_valid_test_methods_give_part_names():
    parts = cellcast.split(SMILES, method="deepchem", fractions=(0.5, 0.25, 0.25))
    assert set(parts.tolist()) <= {"train", "valid", "test"}


def test_bad_split_arguments_raise_value_error():
    with pytest.raises(ValueError, match="not a split method"):
        cellcast.split(SMILES, method="stratified")
    with pytest.raises(ValueError, match="folds must be a whole number from 2 to 1000"):
        cellcast.split(SMILES, folds=1)
    with pytest.raises(ValueError, match="group-kfold"):
        cellcast.split(SMILES, method="group-kfold")


def test_unreadable_molecules_are_their_own_group_with_a_warning():
    with pytest.warns(cellcast.CellcastWarning, match=r"1 failed.*\n.*SMILES 'C1CC'"):
        folds = cellcast.split(SMILES + ["C1CC"], folds=2)
    assert len(folds) == len(SMILES) + 1


@pytest.mark.parametrize("method,fixture,col", [("scaffold-kfold", "groupkfold5", "fold"), ("deepchem", "deepchem", "split"), ("chemprop", "chemprop", "split")])
def test_l1000_task_splits_match_the_references(method, fixture, col):
    train = pd.read_csv(shared_path("tasks/l1000-drugbank/train.csv"), usecols=["drugbank_id", "SMILES"])
    with open(GOLDEN / "chem" / "real" / f"split_l1000task_{fixture}.csv", newline="") as f:
        want = {r["id"]: r[col] for r in csv.DictReader(f)}
    got = cellcast.split(train["SMILES"], method=method, folds=5)
    differ = [i for i, g in zip(train["drugbank_id"], got) if str(g) != want[i]]
    assert len(want) == len(train) and not differ, f"{len(differ)} molecules in another fold: {differ[:5]}"
