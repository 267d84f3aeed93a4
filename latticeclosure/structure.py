"""Lattices from crystal-structure files (CIF, POSCAR, … — whatever ASE reads; optional extra ``[ase]``).

The lattice is made of the sites occupied by chosen species (``sites=["Mn", "Li"]``): which species
sits where in the file does not matter afterwards — the lattice's states are the model's species.
For layered materials, ``layer`` keeps one layer: the sites whose fractional coordinate along the
stacking axis (default the third cell vector, ``c``) is within ``layer_tolerance`` of ``layer``
(periodically). The layer becomes a 2D lattice spanned by the two other cell vectors, in a Cartesian
frame whose x axis lies along the first of them (a 3D structure cannot keep its orientation in 2D);
without ``layer`` the selected sites form a 3D lattice in the file's own frame.

Fractional coordinates within 2·10⁻⁵ of a fraction with denominator ≤ 24 are snapped to it: files
print coordinates like 1/6 as 0.166667, and the lattice's geometric comparisons are exact to 10⁻⁶.
The cell is then reduced to a primitive one like any lattice (e.g. the 6-site C2/m cell of the
Li₂MnO₃ transition-metal layer gives the 1-site triangular lattice, with a notice).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .errors import StructureError

if TYPE_CHECKING:  # pragma: no cover
    from .lattice import Lattice

__all__ = ["lattice_from_structure", "AXES"]

#: Names of the stacking axes (cell vectors).
AXES = {"a": 0, "b": 1, "c": 2}
_SNAP_TOLERANCE = 2e-5
_SNAP_DENOMINATOR = 24


def _snap(frac: np.ndarray) -> np.ndarray:
    out = frac.copy()
    flat = out.reshape(-1)
    for i, x in enumerate(flat):
        f = Fraction(float(x)).limit_denominator(_SNAP_DENOMINATOR)
        if abs(float(f) - x) <= _SNAP_TOLERANCE:
            flat[i] = float(f)
    return out


def _read(path: Path) -> Any:
    try:
        import ase.io
    except ImportError:
        raise StructureError(
            "reading crystal structures needs ASE, the optional extra: pip install 'latticeclosure[ase]'"
        ) from None
    from .io.reading import MAX_TEXT_BYTES, format_bytes

    if path.is_dir():
        raise StructureError(f"structure file {str(path)!r} is a directory, not a file")
    if not path.is_file():
        raise StructureError(f"structure file {str(path)!r} does not exist (or is not a regular file)")
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise StructureError(f"structure file {str(path)!r} is too large ({format_bytes(size)}; at most "
                             f"{format_bytes(MAX_TEXT_BYTES)} is read)")
    try:
        atoms = ase.io.read(str(path))
    except Exception as exc:  # ASE raises many types for unreadable files
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StructureError(f"cannot read structure file {str(path)!r} with ASE: {text[:200]}") from None
    if isinstance(atoms, list):  # pragma: no cover - ase.io.read returns the last image by default
        atoms = atoms[-1]
    return atoms


def lattice_from_structure(
    path: str | Path,
    sites: Sequence[str],
    layer: float | None = None,
    axis: str = "c",
    layer_tolerance: float = 0.05,
    name: str | None = None,
    bonds: Any = None,
) -> "Lattice":
    """The lattice of the sites of ``sites`` species in a structure file (optionally one layer).

    Parameters
    ----------
    path : str or Path
        Any file ASE reads (CIF, POSCAR, …).
    sites : sequence of str
        Chemical symbols whose sites make the lattice, e.g. ``["Mn", "Li"]``.
    layer : float, optional
        Fractional coordinate of the layer along ``axis``; omit for a 3D lattice.
    axis : {"a", "b", "c"}
        Stacking axis (cell vector) for ``layer``.
    layer_tolerance : float
        Largest distance (fractional, along ``axis``) of a layer site from ``layer``.
    name : str, optional
        Lattice name (default: the file name without suffix, plus ``-layer`` for a layer).
    bonds : optional
        Bond rule (default nearest neighbours), as for :class:`~latticeclosure.lattice.Lattice`.

    Raises
    ------
    StructureError
        ASE missing, unreadable file, a requested species absent, no site in the layer, bad options.
    """
    from .lattice import Lattice

    p = Path(path)
    species = [str(s).strip() for s in sites if str(s).strip()]
    if not species:
        raise StructureError("--sites needs at least one chemical symbol, e.g. --sites Mn,Li")
    if axis not in AXES:
        raise StructureError(f"stacking axis must be one of a, b, c; got {axis!r}")
    if not (isinstance(layer_tolerance, (int, float)) and 0 < layer_tolerance < 0.5):
        raise StructureError(f"layer tolerance must be in (0, 0.5), got {layer_tolerance!r}")
    atoms = _read(p)
    symbols = list(atoms.get_chemical_symbols())
    present = sorted(set(symbols))
    missing = [s for s in species if s not in present]
    if missing:
        raise StructureError(
            f"structure {str(p)!r} has no {', '.join(missing)} site(s); its species: {', '.join(present)}"
        )
    cell = np.asarray(atoms.cell.array, dtype=float)
    if abs(np.linalg.det(cell)) < 1e-9:
        raise StructureError(f"structure {str(p)!r} has no periodic 3D cell")
    frac = _snap(np.mod(np.asarray(atoms.get_scaled_positions(wrap=True), dtype=float), 1.0))
    chosen = np.array([i for i, s in enumerate(symbols) if s in species], dtype=np.int64)
    stem = name or p.stem
    description = f"{'/'.join(species)} sites of {p.name}"
    if layer is None:
        basis = frac[chosen] @ cell
        return Lattice(stem, cell, basis, description=description, bonds=bonds)
    if not isinstance(layer, (int, float)) or not np.isfinite(layer):
        raise StructureError(f"layer must be a fractional coordinate (a number), got {layer!r}")
    k = AXES[axis]
    offset = frac[chosen, k] - float(layer)
    distance = np.abs(offset - np.round(offset))
    in_layer = chosen[distance <= layer_tolerance]
    if len(in_layer) == 0:
        found = sorted({round(float(v), 4) for v in frac[chosen, k]})
        raise StructureError(
            f"structure {str(p)!r}: no {'/'.join(species)} site within {layer_tolerance} of layer {layer} "
            f"along {axis}; their {axis} coordinates: {found[:8]}"
        )
    plane = [i for i in range(3) if i != k]
    u, v = cell[plane[0]], cell[plane[1]]
    e1 = u / np.linalg.norm(u)
    v_perp = v - (v @ e1) * e1
    e2 = v_perp / np.linalg.norm(v_perp)
    vectors2 = np.array([[u @ e1, u @ e2], [v @ e1, v @ e2]])
    vectors2[0, 1] = 0.0
    basis2 = frac[np.ix_(in_layer, plane)] @ vectors2
    return Lattice(f"{stem}-layer" if name is None else name, vectors2, basis2,
                   description=f"{description}, layer {axis} = {layer}", bonds=bonds)
