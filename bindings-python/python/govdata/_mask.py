"""The data obligations on tables: :func:`mask_table` carries out a decision's masks,
pseudonyms and watermark on a pyarrow table (or a pandas frame, or anything with
``__arrow_c_stream__``), and :func:`detect_watermark` reads the mark back.

The core does the work; the table crosses into it as an Arrow IPC stream, so pyarrow
is needed (``pip install pyarrow``) and imported only when these are called.
"""

from typing import Any, List, Optional, Sequence, Union

from . import _native

_Key = Union[bytes, bytearray, str, "Any"]


def _to_table(data: Any) -> Any:
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if type(data).__module__.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise TypeError("data must be a pyarrow Table or RecordBatch, a pandas DataFrame, or have __arrow_c_stream__")


def _ipc(table: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def mask_table(engine: "_native.Engine", request: Any, data: Any, *, key: Optional[_Key] = None,
               suite: str = "sha256") -> Any:
    """Decides ``request`` (recorded in the engine's audit log) and returns ``data``
    masked, pseudonymized and watermarked as its obligations say, as a pyarrow Table.

    Raises, and returns nothing, when the decision denies or carries an obligation a
    data call cannot carry out (``AccessDeniedError``), when a column is not a field the
    dataset declares (``RequestInvalidError``), or when a key is needed and not given
    (``KeyNotFoundError``). ``key`` (at least 32 bytes, or a key file) keys the
    pseudonyms and the watermark; ``suite`` is ``"sha256"`` or ``"sm3"``.
    """
    import pyarrow as pa

    out = _native._mask_ipc(engine, request, _ipc(_to_table(data)), key=key, suite=suite)
    return pa.ipc.open_stream(out).read_all()


def detect_watermark(data: Any, *, key: _Key, suite: str = "sha256",
                     candidates: Optional[Sequence[str]] = None) -> Optional[dict]:
    """Reads the watermark of a table: ``None``, or ``{"audit_seq", "votes",
    "recipient"}`` (the recipient among ``candidates``, or ``None``)."""
    cands: Optional[List[str]] = list(candidates) if candidates is not None else None
    return _native._watermark_detect_ipc(_ipc(_to_table(data)), key=key, suite=suite, candidates=cands)
