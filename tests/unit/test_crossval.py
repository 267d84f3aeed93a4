"""Cross-validation: groups held out together, the nested selection never sees the held-out group,
negative held-out predictions are counted, and the same data twice is refused."""

from __future__ import annotations

import numpy as np
import pytest

from closure_testdata import counted_series, index
from latticeclosure.closures import crossval
from latticeclosure.closures import calibration
from latticeclosure.closures.dataset import as_dataset
from latticeclosure.errors import DataError

IDX = index("square")


def _datasets(n: int = 4, seeds: int = 1) -> list:
    out = []
    for k in range(n):
        for s in range(seeds):
            data = counted_series("square", n_records=6, seed=10 * k + s + 1)
            out.append(as_dataset(data, IDX, name=f"p{k}s{s}", metadata={"x": 0.1 * (k + 1)}))
    return out


FAMILIES = ["pair", "mean-field", "power-law"]


def test_groups_are_held_out_together(monkeypatch):
    data = _datasets(3, seeds=2)
    groups = [k for k in range(3) for _ in range(2)]
    calls = []
    original = calibration.calibrate

    def spy(family, train, *args, **kwargs):
        calls.append({d.name for d in train})
        return original(family, train, *args, **kwargs)

    monkeypatch.setattr(calibration, "calibrate", spy)
    cv = crossval.cross_validate(FAMILIES, data, IDX, groups=groups)
    assert [f["held_out"] for f in cv.folds] == [d.name for d in data]
    for g, names in zip(range(3), calls):  # one power-law fit per fold, on the other groups only
        assert names == {d.name for d, lab in zip(data, groups) if lab != g}
    assert cv.best() == min(FAMILIES, key=lambda f: sum(fold["E"][f] for fold in cv.folds))


def test_the_inner_loop_never_receives_the_held_out_group(monkeypatch):
    data = _datasets(4)
    names = [d.name for d in data]
    trained_on = []
    original = calibration.calibrate

    def spy(family, train, *args, **kwargs):
        trained_on.append({d.name for d in train})
        return original(family, train, *args, **kwargs)

    monkeypatch.setattr(calibration, "calibrate", spy)
    cv = crossval.cross_validate(FAMILIES, data, IDX, nested=True)
    # one power-law fit per outer fold (3 training groups) and per inner fold (2 training groups)
    assert sorted(len(s) for s in trained_on) == [2] * 12 + [3] * 4
    chosen = [cv.chosen(f["group"]) for f in cv.folds]
    assert all(c in FAMILIES for c in chosen)
    assert cv.nested_E() == [f["E"][c] for f, c in zip(cv.folds, chosen)]
    monkeypatch.setattr(calibration, "calibrate", original)
    for g, n in enumerate(cv.nested):
        # the inner loop of fold g is exactly a cross-validation of the other groups: g never enters it
        rest = [d for k, d in enumerate(data) if k != g]
        assert n["inner_totals"] == crossval.cross_validate(FAMILIES, rest, IDX).totals()
        assert n["chosen"] == min(n["inner_totals"], key=n["inner_totals"].get)
        assert names[g] not in {d.name for d in rest}


def test_nested_needs_three_groups():
    with pytest.raises(DataError, match="three"):
        crossval.cross_validate(FAMILIES, _datasets(2), IDX, nested=True)


def test_negative_held_out_predictions_are_counted():
    data = _datasets(3)
    cv = crossval.cross_validate(["pair"], data, IDX)
    assert cv.negative() == {"pair": 0}  # the pair approximation of non-negative data is non-negative


def test_the_same_data_twice_is_refused():
    data = _datasets(2)
    twin = as_dataset({"time": data[0].time, **data[0].columns}, IDX, name="renamed-copy")
    with pytest.raises(DataError, match="same data"):
        crossval.cross_validate(["pair"], data + [twin], IDX)
    run = {"model": "m", "x_target": 0.5, "seed": 3, "lattice": {"name": "square"}, "supercell": [8, 8]}
    a = as_dataset(counted_series("square", seed=1), IDX, name="a", metadata=run)
    b = as_dataset(counted_series("square", seed=2), IDX, name="b", metadata=run)
    with pytest.raises(DataError, match="same run"):
        calibration.calibrate("power-law", [a, b], IDX)
    assert np.isfinite(calibration.calibrate("power-law", [a, data[1]], IDX).E)
