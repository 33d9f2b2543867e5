"""The data obligations on tables: :func:`mask_stream` and :func:`mask_table` carry out
a decision's masks, pseudonyms and watermark on Arrow data (a pyarrow table or record
batch, a pandas frame, or anything with ``__arrow_c_stream__``), and
:func:`detect_watermark` reads the mark back.

The data crosses into the core through the Arrow PyCapsule interface: the core reads
the caller's buffers where they are and hands back a stream whose kept columns are
those very buffers (zero-copy in and out); only masked columns are new. pyarrow is
needed only for :func:`mask_table`, for record batches and for pandas frames, and is
imported only then.
"""

from typing import Any, List, Optional, Sequence, Union

from . import _native

_Key = Union[bytes, bytearray, str, "Any"]


class MaskedStream:
    """Masked data as an Arrow C stream: pass it to ``pyarrow.table(...)``,
    ``pyarrow.RecordBatchReader.from_stream(...)``, ``polars.from_arrow(...)`` or any
    reader of the Arrow PyCapsule interface, which imports it without a copy. A
    stream is read once. ``decision`` is the decision whose obligations it carries
    out (its ``audit_seq`` is the record a watermark names); ``host_obligations`` are
    the decision's obligations about storing or sending the data
    (``encrypt_at_rest``, ``encrypt_in_transit``), which the caller must still meet."""

    __slots__ = ("_capsule", "decision", "host_obligations")

    def __init__(self, capsule: Any, decision: "_native.Decision", host_obligations: List[str]) -> None:
        self._capsule = capsule
        self.decision = decision
        self.host_obligations = host_obligations

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The stream's capsule (``requested_schema`` is not applied: the masked
        stream has the schema the masks give it)."""
        capsule, self._capsule = self._capsule, None
        if capsule is None:
            raise ValueError("a MaskedStream is read once, and this one was read")
        return capsule


def _stream(data: Any) -> Any:
    """The ``arrow_array_stream`` capsule of ``data``, without copying its buffers
    (a pandas frame is converted by pyarrow first, without its index)."""
    if type(data).__module__.startswith("pandas"):
        import pyarrow as pa

        data = pa.Table.from_pandas(data, preserve_index=False)
    elif not hasattr(data, "__arrow_c_stream__") and type(data).__name__ == "RecordBatch":
        import pyarrow as pa

        data = pa.Table.from_batches([data])
    if not hasattr(data, "__arrow_c_stream__"):
        raise TypeError(
            "data must be a pyarrow Table or RecordBatch, a pandas DataFrame, or have __arrow_c_stream__"
        )
    return data.__arrow_c_stream__()


def mask_stream(engine: "_native.Engine", request: Any, data: Any, *, key: Optional[_Key] = None,
                suite: str = "sha256") -> MaskedStream:
    """Decides ``request`` (recorded in the engine's audit log, whose record a watermark
    names) and returns ``data`` masked, pseudonymized and watermarked as its
    obligations say, as a :class:`MaskedStream`. Zero-copy: the columns the decision
    keeps are ``data``'s own buffers (unless a watermark places canary rows among
    them), and the stream is imported by its reader without a copy.

    Raises, and returns nothing, when the decision denies or carries an obligation a
    data call cannot carry out (``AccessDeniedError``), when a column is not a field the
    dataset declares or a masked column is not a string column (``RequestInvalidError``),
    or when a key is needed and not given (``KeyNotFoundError``). ``key`` (at least 32
    bytes, or a key file) keys the pseudonyms and the watermark; ``suite`` is
    ``"sha256"`` or ``"sm3"``.
    """
    capsule, decision, host = _native._mask_stream(engine, request, _stream(data), key=key, suite=suite)
    return MaskedStream(capsule, decision, host)


def mask_table(engine: "_native.Engine", request: Any, data: Any, *, key: Optional[_Key] = None,
               suite: str = "sha256") -> Any:
    """:func:`mask_stream`, as a pyarrow Table (imported from the stream without a
    copy)."""
    import pyarrow as pa

    return pa.table(mask_stream(engine, request, data, key=key, suite=suite))


def detect_watermark(data: Any, *, key: _Key, suite: str = "sha256",
                     candidates: Optional[Sequence[str]] = None) -> Optional[dict]:
    """Reads the watermark of a table (anything :func:`mask_stream` takes): ``None``,
    or ``{"audit_seq", "votes", "recipient"}`` (the recipient among ``candidates``, or
    ``None``)."""
    cands: Optional[List[str]] = list(candidates) if candidates is not None else None
    return _native._watermark_detect_stream(_stream(data), key=key, suite=suite, candidates=cands)
