"""Checked reading of ``.npz`` archives: every member's header is validated before anything is allocated.

``np.load`` trusts an archive: a 300-byte file can declare a 71-PiB array (``MemoryError``) and a
3-MB member can inflate to gigabytes. :class:`NpzReader` reads the zip directory and each member's
``.npy`` header first and refuses, with the caller's error class,

* anything that is not a readable zip archive of ``.npy`` members (at most :data:`MAX_MEMBERS`);
* object, structured and sub-array dtypes, and dtype kinds the caller does not allow (pickles are
  never loaded);
* shapes with more than ``max_ndim`` axes;
* a declared array size that does not match the member's declared uncompressed size (a header
  that promises more data than the member holds is how the huge-allocation files work);
* a total uncompressed size above the data limit (:func:`latticeclosure.io.reading.data_limit`) or
  above half the memory the machine has available.

Only then is a member read, and reading stops at its declared size (zip's CRC check catches a
corrupt stream).
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
import zlib
from typing import Any, Iterable

import numpy as np

from ..errors import DataError, LatticeClosureError
from .reading import format_bytes, data_limit, input_path

__all__ = ["NpzReader", "load_npz", "available_memory", "MAX_MEMBERS", "DEFAULT_KINDS"]

#: Most members an archive may have.
MAX_MEMBERS = 256
#: dtype kinds accepted by default: bool, signed/unsigned integers, floats, unicode and byte strings.
DEFAULT_KINDS = "biufUS"

ErrorType = type[LatticeClosureError]


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


class NpzReader:
    """An open ``.npz`` archive whose members are checked before they are read.

    Parameters
    ----------
    path : path-like
    what : str
        How the file is named in messages, e.g. ``"trajectory file"``.
    error : type
        Exception class for every problem (default :class:`~latticeclosure.errors.DataError`).
    kinds : str
        Accepted dtype kinds (``numpy.dtype.kind`` letters).
    max_ndim : int
        Most axes of a member.
    max_bytes : int, optional
        Largest total uncompressed size; default the data limit.

    Raises
    ------
    error
        On any of the problems listed in the module documentation.
    """

    def __init__(self, path: Any, what: str = "file", error: ErrorType = DataError, *, kinds: str = DEFAULT_KINDS,
                 max_ndim: int = 4, max_bytes: int | None = None) -> None:
        self.path = input_path(path, what, error)
        self.where = f"{what} {self.path}"
        self.error = error
        self.kinds = kinds
        self.max_ndim = max_ndim
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise error(f"{self.where} does not exist") from None
        except OSError as exc:
            raise error(f"cannot read {self.where}: {exc.strerror or exc}") from None
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{self.where} is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{self.where} is not a regular file (a device, FIFO or socket)")
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise error(f"{self.where} is truncated or corrupt (not a readable .npz archive): {exc}") from None
        try:
            self._headers = self._read_headers(max_bytes if max_bytes is not None else data_limit())
        except BaseException:
            self._zip.close()
            raise

    # ------------------------------------------------------------------ context manager
    def __enter__(self) -> "NpzReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    # ------------------------------------------------------------------ headers
    def _read_headers(self, max_bytes: int) -> dict[str, tuple[tuple[int, ...], np.dtype, zipfile.ZipInfo]]:
        infos = self._zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise self.error(f"{self.where} has {len(infos)} members; at most {MAX_MEMBERS} are read")
        out: dict[str, tuple[tuple[int, ...], np.dtype, zipfile.ZipInfo]] = {}
        total = 0
        for info in infos:
            if not info.filename.endswith(".npy") or info.is_dir():
                raise self.error(f"{self.where}: member {info.filename!r:.60} is not a .npy array")
            name = info.filename[:-4]
            if name in out:
                raise self.error(f"{self.where}: member {name!r:.60} appears twice")
            shape, dtype, header_len = self._header(info)
            nbytes = math.prod(shape) * dtype.itemsize
            if header_len + nbytes != info.file_size:
                raise self.error(
                    f"{self.where}: member {name!r:.60} declares a {shape} {dtype} array ({format_bytes(nbytes)}) "
                    f"but holds {format_bytes(max(info.file_size - header_len, 0))}; the file is corrupt"
                )
            total += nbytes
            out[name] = (shape, dtype, info)
        if total > max_bytes:
            raise self.error(
                f"{self.where} would decompress to {format_bytes(total)}, above the limit of {format_bytes(max_bytes)} "
                "(raise it with LATTICECLOSURE_MAX_INPUT_BYTES)"
            )
        free = available_memory()
        if free is not None and total > free // 2:
            raise self.error(
                f"{self.where} would need {format_bytes(total)} of memory; this machine has {format_bytes(free)} available"
            )
        return out

    def _header(self, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype, int]:
        fmt = np.lib.format
        try:
            with self._zip.open(info) as fh:
                version = fmt.read_magic(fh)
                if version == (1, 0):
                    shape, fortran, dtype = fmt.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, fortran, dtype = fmt.read_array_header_2_0(fh)
                else:
                    raise self.error(f"{self.where}: member {info.filename!r:.60} has .npy format {version}, not 1.0 or 2.0")
                header_len = fh.tell()
        except LatticeClosureError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, SyntaxError, TypeError, zlib.error,
                NotImplementedError, RuntimeError) as exc:
            raise self.error(
                f"{self.where} is truncated or corrupt (member {info.filename!r:.60}: {str(exc)[:100]})"
            ) from None
        dtype = np.dtype(dtype)
        if dtype.hasobject:
            raise self.error(f"{self.where}: member {info.filename[:-4]!r:.60} holds Python objects; refused (no pickles)")
        if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in self.kinds:
            raise self.error(
                f"{self.where}: member {info.filename[:-4]!r:.60} has dtype {dtype}; allowed kinds: {self.kinds}"
            )
        if len(shape) > self.max_ndim or any((not isinstance(v, int)) or v < 0 for v in shape):
            raise self.error(f"{self.where}: member {info.filename[:-4]!r:.60} has an invalid shape {shape}")
        return tuple(int(v) for v in shape), dtype, header_len

    # ------------------------------------------------------------------ access
    @property
    def names(self) -> list[str]:
        """Member names (without ``.npy``), in archive order."""
        return list(self._headers)

    def __contains__(self, name: str) -> bool:
        return name in self._headers

    def shape(self, name: str) -> tuple[int, ...]:
        """The declared shape of a member (nothing is read)."""
        return self._headers[name][0]

    def dtype(self, name: str) -> np.dtype:
        """The declared dtype of a member (nothing is read)."""
        return self._headers[name][1]

    def read(self, name: str) -> np.ndarray:
        """Read one (checked) member.

        Raises
        ------
        error
            The member is missing, or its data are truncated or corrupt.
        """
        if name not in self._headers:
            raise self.error(f"{self.where} has no array {name!r}")
        info = self._headers[name][2]
        try:
            with self._zip.open(info) as fh:
                arr = np.lib.format.read_array(fh, allow_pickle=False)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
            raise self.error(f"{self.where} is truncated or corrupt (array {name!r}: {str(exc)[:100]})") from None
        return arr

    def read_all(self, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """Read the given members (default all)."""
        return {n: self.read(n) for n in (self.names if names is None else names)}


def load_npz(path: Any, what: str = "file", error: ErrorType = DataError, **options: Any) -> dict[str, np.ndarray]:
    """Every member of a checked ``.npz`` archive (see :class:`NpzReader`, which takes the options)."""
    with NpzReader(path, what, error, **options) as z:
        return z.read_all()
