"""Closure calibration: recovery of known exponents, identifiability reports, constraints, CV, data errors."""

from __future__ import annotations

import numpy as np
import pytest

from closure_testdata import counted_series, index, pair_series, power_law_truth
from latticeclosure.closures import calibrate, calibrate_each, cross_validate, evaluate, exponent_table, sparsify
from latticeclosure.closures.dataset import as_dataset
from latticeclosure.errors import ClosureError, DataError

GAM = {"C++": 1.3, "C+-": 0.6}
XI = {"C+": 0.7, "C-": 0.2}  # degree 1.3 + 0.6 − 0.9 = 1 (the chain's pair degree)


def synthetic(cplus: float, cls: str = "L++-", gam=GAM, xi=XI, **kw):
    s = pair_series(cplus, **kw)
    s[cls] = power_law_truth(s, gam, xi)
    return as_dataset(s, index(), name=f"C+={cplus}", metadata={"x": 1 - cplus}, normalisation="inputs")


def _truth_vector(fit):
    want = {f"gamma[{k}]": v for k, v in GAM.items()}
    want.update({f"xi[{k}]": v for k, v in XI.items()})
    return np.array([want[lab] for lab in fit.labels])


def _identified_projection(fit, A):
    """Orthonormal basis of the identifiable directions: tangent space minus reported null directions."""
    from scipy.linalg import null_space

    N = null_space(A)
    D = [np.array([d["direction"].get(lab, 0.0) for lab in fit.labels]) for d in fit.nonidentifiable]
    if D:
        D = np.linalg.qr(np.column_stack(D))[0]
        N = N - D @ (D.T @ N)
        u, s, _ = np.linalg.svd(N, full_matrices=False)
        N = u[:, s > 1e-8]
    return N


def _check_constraints(fam, cls, fit, idx):
    a = fam.ansatz(cls, idx)
    assert np.all(fit.values >= a.lower - 1e-12) and np.all(fit.values <= a.upper + 1e-12)
    if len(a.A_eq):
        np.testing.assert_allclose(a.A_eq @ fit.values, a.b_eq, atol=1e-10)


@pytest.mark.parametrize("preset", ["soft", "hard"])
def test_recovers_known_exponents_single_stoichiometry(preset):
    idx = index()
    res = calibrate("power-law", synthetic(0.3), idx, ["L++-"], preset=preset)
    fit = res.classes["L++-"]
    assert fit.nonidentifiable == [] and fit.success
    np.testing.assert_allclose(fit.values, _truth_vector(fit), atol=1e-4)
    assert fit.J < 1e-20 < fit.J_reference
    _check_constraints(res.family, "L++-", fit, idx)


def test_singlet_split_non_identifiable_at_half():
    idx = index()
    res = calibrate("power-law", synthetic(0.5), idx, ["L++-"], preset="soft")
    fit = res.classes["L++-"]
    assert len(fit.nonidentifiable) == 1
    d = fit.nonidentifiable[0]["direction"]
    assert d == {"xi[C+]": 1.0, "xi[C-]": -1.0}
    # identifiable directions are recovered
    A = res.family.ansatz("L++-", idx).A_eq
    P = _identified_projection(fit, A)
    np.testing.assert_allclose(P.T @ fit.values, P.T @ _truth_vector(fit), atol=1e-4)
    # canonical choice: minimum norm = equal split of ξ₊ + ξ₋ = 0.9
    p = fit.params
    assert p["xi[C+]"] == pytest.approx(0.45, abs=1e-8) and p["xi[C-]"] == pytest.approx(0.45, abs=1e-8)
    # the pair-anchored canonical choice is also available and equally good
    res2 = calibrate("power-law", synthetic(0.5), idx, ["L++-"], preset="soft", canonical="pair")
    p2 = res2.classes["L++-"].params
    assert p2["xi[C+]"] + p2["xi[C-]"] == pytest.approx(0.9, abs=1e-8)
    assert p2["xi[C+]"] - p2["xi[C-]"] == pytest.approx(1.0, abs=1e-6)  # PA: ξ₊ − ξ₋ = 1 − 0
    assert res2.classes["L++-"].J < 1e-20
    # table marks the non-identified parameters
    rows = {r["parameter"]: r["identified"] for r in res.table()}
    assert rows["xi[C+]"] == "no" and rows["gamma[C++]"] == "yes"


def test_near_half_is_weakly_identified():
    res = calibrate("power-law", synthetic(0.49), index(), ["L++-"], preset="soft")
    fit = res.classes["L++-"]
    assert fit.nonidentifiable == []
    assert len(fit.weak) == 1 and fit.weak[0]["direction"]["xi[C+]"] == 1.0


def test_single_stoichiometry_without_degree_identifies_only_the_singlet_combination():
    idx = index()
    res = calibrate("power-law", synthetic(0.3), idx, ["L++-"], preset="soft", degree=None)
    fit = res.classes["L++-"]
    assert len(fit.nonidentifiable) == 1
    d = fit.nonidentifiable[0]["direction"]
    assert set(d) == {"xi[C+]", "xi[C-]"}
    # along it ξ₊ log C₊ + ξ₋ log C₋ is constant
    assert d["xi[C+]"] * np.log(0.3) + d["xi[C-]"] * np.log(0.7) == pytest.approx(0, abs=1e-8)
    comb = fit.params["xi[C+]"] * np.log(0.3) + fit.params["xi[C-]"] * np.log(0.7)
    assert comb == pytest.approx(XI["C+"] * np.log(0.3) + XI["C-"] * np.log(0.7), abs=1e-6)
    # jointly over stoichiometries everything is identified again
    joint = calibrate("power-law", [synthetic(c) for c in (0.3, 0.6)], idx, ["L++-"], preset="soft", degree=None)
    jf = joint.classes["L++-"]
    assert jf.nonidentifiable == []
    np.testing.assert_allclose(jf.values, _truth_vector(jf), atol=1e-4)


def test_joint_fit_identifies_split_including_half():
    idx = index()
    data = [synthetic(c) for c in (0.3, 0.5, 0.7)]
    res = calibrate("power-law", data, idx, ["L++-"], preset="soft")
    fit = res.classes["L++-"]
    assert fit.nonidentifiable == [] and res.options["joint"]
    np.testing.assert_allclose(fit.values, _truth_vector(fit), atol=1e-4)
    assert set(fit.J_by_dataset) == {"C+=0.3", "C+=0.5", "C+=0.7"}


def test_constraints_respected_when_truth_is_outside():
    idx = index()
    # truth γ₊₊ = 2.6 > δ = 2 (hard): the fit must stay on the boundary, degree exact
    gam, xi = {"C++": 2.6, "C+-": 0.4}, {"C+": 1.5, "C-": 0.5}
    data = [synthetic(c, gam=gam, xi=xi) for c in (0.3, 0.6)]
    res = calibrate("power-law", data, idx, ["L++-"], preset="hard")
    fit = res.classes["L++-"]
    _check_constraints(res.family, "L++-", fit, idx)
    assert "gamma[C++]" in fit.active
    assert fit.n_best >= 1 and fit.n_starts >= 3
    # user bounds
    res = calibrate("power-law", data, idx, ["L++-"], preset=None, delta=1.0, beta1=-0.5, beta2=0.5)
    _check_constraints(res.family, "L++-", res.classes["L++-"], idx)
    with pytest.raises(ClosureError, match="empty"):
        calibrate("power-law", data, idx, ["L++-"], preset="hard", delta=0.3)


def test_zero_concentrations_are_safe():
    idx = index()
    s = pair_series(0.3)
    s["C++"][:20] = 0.0  # e.g. a perfectly ordered start: no ++ bonds
    s["C+-"][:20] = s["C+"][:20]
    s["C--"][:20] = s["C-"][:20] - s["C+-"][:20]
    good = s["C--"] >= 0
    s = {k: (v if np.ndim(v) == 0 else v[good]) for k, v in s.items()}
    s["L++-"] = power_law_truth(s, GAM, XI)
    s["T+++"] = np.zeros_like(s["time"])  # never present
    d = as_dataset(s, idx, normalisation="inputs")
    res = calibrate("power-law", d, idx, ["L++-", "T+++"], preset="soft")
    fit = res.classes["L++-"]
    assert np.all(np.isfinite(fit.values)) and fit.J < 1e-16
    np.testing.assert_allclose(fit.values, _truth_vector(fit), atol=1e-4)
    tri = res.classes["T+++"]  # a class that never occurs: the best power law shrinks toward 0
    assert np.all(np.isfinite(tri.values)) and tri.J < tri.J_reference
    assert "gamma[C++]" in tri.active


def test_pair_corrected_recovers_coefficients_jointly():
    idx = index()

    def make(cp, a=(0.4, -0.3)):
        s = pair_series(cp)
        qpp = s["C++"] / s["C+"] ** 2
        qpm = s["C+-"] / (s["C+"] * s["C-"])
        s["L++-"] = s["C++"] * s["C+-"] / s["C+"] * (1 + a[0] * (qpp - 1) + a[1] * (qpm - 1))
        return as_dataset(s, idx, name=str(cp), normalisation="inputs")

    one = calibrate("pair-corrected", make(0.3), idx, ["L++-"], terms="linear").classes["L++-"]
    # within one run C₊(q₊₊ − 1) + C₋(q₊₋ − 1) = 0: one direction is not identified, and reported
    assert len(one.nonidentifiable) == 1
    d = one.nonidentifiable[0]["direction"]
    assert d["a[C++]"] / d["a[C+-]"] == pytest.approx(0.3 / 0.7, rel=1e-6)
    data = [make(c) for c in (0.3, 0.45, 0.6)]
    joint = calibrate("pair-corrected", data, idx, ["L++-"], terms="linear").classes["L++-"]
    assert joint.nonidentifiable == []
    np.testing.assert_allclose(joint.values, [0.4, -0.3], atol=1e-6)
    # the default (quadratic) family contains the truth: recovered with zero quadratic terms
    quad = calibrate("pair-corrected", data, idx, ["L++-"]).classes["L++-"]
    assert quad.labels == ["a[C++]", "a[C+-]", "a[C++*C++]", "a[C++*C+-]", "a[C+-*C+-]"]
    assert quad.J < 1e-20
    np.testing.assert_allclose(quad.values[:2], [0.4, -0.3], atol=1e-5)


def test_sparsify_finds_the_generating_pattern():
    idx = index()
    data = []
    for cp in (0.3, 0.6):
        s = pair_series(cp)
        s["L++-"] = s["C+-"].copy()            # C_xyz ≈ C_yz (degree 1)
        s["T+++"] = s["C++"] ** 2 / s["C+"]    # SA's uniform triangle
        data.append(as_dataset(s, idx, name=str(cp), normalisation="inputs"))
    fit = calibrate("power-law", data, idx, ["L++-", "T+++"], preset="soft", degree="paper")
    sp = sparsify(fit, rtol=0.1, atol=1e-14)
    assert sp.choices["L++-"].exponents == {"C+-": 1.0}
    assert sp.choices["T+++"].exponents == {"C++": 2.0, "C+": -1.0}
    assert all(ch.within_tolerance for ch in sp.choices.values())
    closure = sp.closure("auto-SA")
    ev = evaluate(closure, data, idx, ["L++-", "T+++"])
    assert ev.E_mean < 1e-20
    assert sp.to_json()["classes"][0]["class"] == "L++-"


def test_cross_validation_and_per_dataset_fits():
    idx = index()
    data = [synthetic(c) for c in (0.3, 0.45, 0.6)]
    cv = cross_validate(["pair", "power-law"], data, idx, ["L++-"], n_starts=2)
    assert [f["held_out"] for f in cv.folds] == ["C+=0.3", "C+=0.45", "C+=0.6"]
    means = cv.mean()
    assert means["power-law"] < 1e-12 < means["pair"]
    assert len(cv.fits["power-law"]) == 3 and "pair" in cv.format()
    each = calibrate_each("power-law", data, idx, ["L++-"], n_starts=2)
    assert len(each) == 3 and all(r.classes["L++-"].J < 1e-16 for r in each)
    with pytest.raises(DataError, match="at least two"):
        cross_validate("power-law", data[:1], idx, ["L++-"])


def test_exponent_table_on_counted_data():
    """Table II on real (counted, normalised) data: all 16 classes, PA beside soft and hard."""
    idx = index()
    runs = [counted_series(seed=s, n_records=8, swaps=6) for s in (1, 2)]
    table = exponent_table(runs, idx, n_starts=1)
    classes = {r["class"] for r in table.rows}
    assert len(classes) == 16
    row = next(r for r in table.rows if r["class"] == "L++-" and r["parameter"] == "gamma[C++]")
    assert row["PA"] == 1.0
    assert set(table.J["T+++"]) == {"PA", "soft", "hard"}
    for preset in ("soft", "hard"):
        fit = table.fits[preset]
        for c, f in fit.classes.items():
            _check_constraints(fit.family, c, f, idx)
            assert f.J <= f.J_reference * (1 + 1e-9) + 1e-15 or c.startswith("T")
    text = table.format()
    assert "gamma[C++]" in text and "soft" in text
    # the fitted closure evaluates like any other closure
    ev = evaluate(table.fits["hard"], runs, idx)
    assert len(ev.E) == 2 and np.isfinite(ev.E_mean)


def test_data_errors():
    idx = index()
    s = pair_series(0.3)
    s["L++-"] = power_law_truth(s, GAM, XI)
    bad = dict(s)
    bad["C++"] = s["C++"].copy()
    bad["C++"][3] = np.nan
    with pytest.raises(DataError, match="NaN"):
        calibrate("power-law", as_bad(bad), idx, ["L++-"])
    neg = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in s.items()}
    neg["L++-"][5] = -1e-3
    with pytest.raises(DataError, match="negative"):
        as_dataset(neg, idx, normalisation="inputs")
    unnorm = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in s.items()}
    unnorm["C--"] = unnorm["C--"] * 1.1
    with pytest.raises(DataError, match="not normalised"):
        as_dataset(unnorm, idx)
    wrong = dict(s)
    wrong["C+-+"] = s["C+-"]
    with pytest.raises(DataError, match="unknown class names"):
        as_dataset(wrong, idx, normalisation="inputs")
    with pytest.raises(DataError, match="lacks"):
        calibrate("power-law", as_dataset({k: v for k, v in s.items() if k != "C++"}, idx, normalisation="inputs"), idx, ["L++-"])
    with pytest.raises(DataError, match="time"):
        as_dataset({k: v for k, v in s.items() if k != "time"}, idx)
    with pytest.raises(DataError, match="decreases"):
        as_dataset(s, idx, time=s["time"][::-1], normalisation="inputs")
    # counted data with shape fractions folded in (the paper's convention) are rejected
    run = counted_series(n_records=3)
    run["L+++"] = run["L+++"] / 5
    with pytest.raises(DataError, match="linear"):
        as_dataset(run, idx)
    with pytest.raises(ClosureError, match="no parameters"):
        calibrate("pair", as_dataset(s, idx, normalisation="inputs"), idx, ["L++-"])


def as_bad(d):
    return as_dataset(d, index(), normalisation="inputs")


def test_trajectory_like_objects_are_accepted():
    idx = index()

    class Traj:
        def __init__(self, data):
            self.class_names = [k for k in data if k != "time"]
            self.concentrations = np.column_stack([data[k] for k in self.class_names])
            self.time = data["time"] * 1000.0  # iterations: rescaled to the fraction of the run
            self.metadata = {"x_realised": 0.3333}
            self.name = "traj"

    d = as_dataset(Traj(counted_series(n_records=4)), idx)
    assert d.time[0] == 0 and d.time[-1] == 1 and d.x == pytest.approx(0.3333)
    assert d.weights.sum() == pytest.approx(1.0)


def test_cli_fit_smoke(tmp_path, capsys):
    from latticeclosure.cli.main import main

    paths = []
    for seed in (1, 2):
        p = tmp_path / f"run{seed}.npz"
        np.savez(p, **counted_series(seed=seed, n_records=5))
        paths.append(str(p))
    out_json = tmp_path / "fit.json"
    status = main(["fit", *paths, "--classes", "L++-", "A+-+", "--n-starts", "1", "--json", str(out_json)])
    assert status == 0
    text = capsys.readouterr().out
    assert "gamma[C++]" in text and "pair" in text
    import json

    data = json.loads(out_json.read_text())
    assert data["fits"][0]["classes"][0]["class"] == "L++-"
    assert main(["fit", *paths, "--closure", "pair-corrected", "--cv", "--classes", "L++-", "--n-starts", "1"]) == 0
    assert "held_out" in capsys.readouterr().out
    # bad input: exit status 2 with a one-line error
    bad = tmp_path / "bad.npz"
    run = counted_series(n_records=3)
    run["C++"] = run["C++"] * 2
    np.savez(bad, **run)
    assert main(["fit", str(bad)]) == 2
    assert "not normalised" in capsys.readouterr().err
    assert main(["fit", paths[0], "--delta", "0.2", "--preset", "hard", "--classes", "L+++"]) == 2
    assert "empty" in capsys.readouterr().err
