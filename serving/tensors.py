"""Request tensors in and out: TensorProto and TF Serving's JSON, checked before decoding.

Every input is checked against the signature's declared dtype and shape, and its
declared element count against what the message carries, *before* anything is
allocated: a 22-byte TensorProto can declare a 64 GiB array. Problems raise
`RequestError` with a gRPC status code and a message that names the input and
what was expected (never a path).
"""

from __future__ import annotations

import base64
import json
import math

import grpc
import numpy as np
import orjson
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.framework import types_pb2
from tensorflow.core.framework.tensor_shape_pb2 import TensorShapeProto


class RequestError(Exception):
    """A request that cannot be served; `code` is the gRPC status to answer with."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> RequestError:
    return RequestError(grpc.StatusCode.INVALID_ARGUMENT, message)


class InputSpec:
    """One signature input: name, dtype and shape (-1 for any size) from its SignatureDef."""

    def __init__(self, name: str, tensor_info):
        self.name = name
        self.dtype = tf.dtypes.as_dtype(tensor_info.dtype)
        self.shape = (
            None
            if tensor_info.tensor_shape.unknown_rank
            else [d.size for d in tensor_info.tensor_shape.dim]
        )

    def describe(self) -> str:
        dims = (
            "?"
            if self.shape is None
            else ", ".join("None" if d < 0 else str(d) for d in self.shape)
        )
        return f"{self.dtype.name}[{dims}]"

    def check_shape(self, shape: list[int], max_batch: int) -> None:
        """Rank, fixed dimensions and batch size against the signature and the server's cap."""
        if any(d < 0 for d in shape):
            raise invalid(f"input {self.name!r} has a negative dimension in shape {shape}")
        if self.shape is not None:
            if len(shape) != len(self.shape) or any(
                want >= 0 and got != want for got, want in zip(shape, self.shape)
            ):
                raise invalid(
                    f"input {self.name!r} has shape {shape}; the signature expects "
                    f"{self.describe()}"
                )
        if shape and shape[0] > max_batch:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"input {self.name!r} has batch size {shape[0]}; this server serves at most "
                f"{max_batch} per request (split the request)",
            )


# Repeated TensorProto fields by dtype, for counting the values a message carries.
_VALUE_FIELDS = {
    types_pb2.DT_FLOAT: "float_val",
    types_pb2.DT_DOUBLE: "double_val",
    types_pb2.DT_INT32: "int_val",
    types_pb2.DT_INT16: "int_val",
    types_pb2.DT_INT8: "int_val",
    types_pb2.DT_UINT8: "int_val",
    types_pb2.DT_UINT16: "int_val",
    types_pb2.DT_INT64: "int64_val",
    types_pb2.DT_UINT32: "uint32_val",
    types_pb2.DT_UINT64: "uint64_val",
    types_pb2.DT_BOOL: "bool_val",
    types_pb2.DT_STRING: "string_val",
    types_pb2.DT_HALF: "half_val",
    types_pb2.DT_BFLOAT16: "half_val",
}


def from_proto(proto: tensor_pb2.TensorProto, spec: InputSpec, max_batch: int) -> np.ndarray:
    """Checks a TensorProto against `spec`, then decodes it."""
    if proto.dtype != spec.dtype.as_datatype_enum:
        try:
            got = tf.dtypes.as_dtype(proto.dtype).name
        except TypeError:
            got = f"unknown dtype {proto.dtype}"
        raise invalid(f"input {spec.name!r} is {got}; the signature expects {spec.describe()}")
    if proto.tensor_shape.unknown_rank:
        raise invalid(f"input {spec.name!r} has no shape; expected {spec.describe()}")
    shape = [d.size for d in proto.tensor_shape.dim]
    spec.check_shape(shape, max_batch)
    count = math.prod(shape)
    if proto.tensor_content:
        size = spec.dtype.size
        if spec.dtype == tf.string or len(proto.tensor_content) != count * size:
            raise invalid(
                f"input {spec.name!r} declares shape {shape} ({count} values) but carries "
                f"{len(proto.tensor_content)} bytes of content"
            )
    else:
        field = _VALUE_FIELDS.get(proto.dtype)
        carried = len(getattr(proto, field)) if field else 0
        # TF accepts one value broadcast to the whole shape (tf.make_tensor_proto(0., [2, 3])).
        if carried != count and not (carried == 1 and count > 0):
            raise invalid(
                f"input {spec.name!r} declares shape {shape} ({count} values) but carries "
                f"{carried} value(s)"
            )
    try:
        return to_array(proto)
    except (ValueError, TypeError) as e:
        raise invalid(f"input {spec.name!r} cannot be decoded: {e}") from None


def from_json(value, spec: InputSpec, max_batch: int) -> np.ndarray:
    """Decodes one input given as (nested) JSON lists, `{"b64": ...}` for bytes."""
    if spec.dtype == tf.string:
        array = np.array(_json_bytes(value, spec.name), dtype=object)
    else:
        try:
            array = np.array(value)
        except ValueError:
            raise invalid(
                f"input {spec.name!r} is a ragged list; expected {spec.describe()}"
            ) from None
        if array.dtype.kind == "b" or array.dtype.kind not in "iuf" and array.size:
            raise invalid(f"input {spec.name!r} holds non-numbers; expected {spec.describe()}")
        if spec.dtype.is_integer and array.dtype.kind == "f":
            if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
                raise invalid(f"input {spec.name!r} holds fractions; expected integers")
        if spec.dtype.is_integer and array.size:
            info = np.iinfo(spec.dtype.as_numpy_dtype)
            if array.min() < info.min or array.max() > info.max:
                raise invalid(
                    f"input {spec.name!r} holds values outside the {spec.dtype.name} range"
                )
        array = array.astype(spec.dtype.as_numpy_dtype)
    spec.check_shape(list(array.shape), max_batch)
    return array


def _json_bytes(value, name: str):
    if isinstance(value, list):
        return [_json_bytes(v, name) for v in value]
    if isinstance(value, dict) and set(value) == {"b64"}:
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (ValueError, TypeError):
            raise invalid(f"input {name!r} has a b64 value that is not base64") from None
    if isinstance(value, str):
        return value.encode("utf-8")
    raise invalid(f"input {name!r} expects strings or {{'b64': ...}} objects")


# How `tf.make_tensor_proto` writes numbers: more than one value as raw bytes
# (`tensor_content`), one (or none) in the dtype's value field. Those messages are built
# here directly, the same bytes without its checks and conversions, which cost more
# than a small request's whole decoding (bench/serving_speed.py).
_RAW_DTYPES = {
    np.dtype(t): tf.as_dtype(t).as_datatype_enum
    for t in (
        np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
        np.uint8, np.uint32, np.uint64,
    )
}  # fmt: skip
_NUMPY_DTYPES = {enum: dtype for dtype, enum in _RAW_DTYPES.items()}


def to_proto(array) -> tensor_pb2.TensorProto:
    """The TensorProto of an array, byte for byte what `tf.make_tensor_proto` makes."""
    array = np.asarray(array)
    enum = _RAW_DTYPES.get(array.dtype)
    field = _VALUE_FIELDS.get(enum)
    if enum is None or (array.size <= 1 and field == "half_val"):  # strings, bools...
        return tf.make_tensor_proto(array)
    proto = tensor_pb2.TensorProto(dtype=enum)
    proto.tensor_shape.dim.extend(TensorShapeProto.Dim(size=d) for d in array.shape)
    if array.size > 1:
        proto.tensor_content = array.tobytes()
    else:
        getattr(proto, field).extend(array.ravel().tolist())
    return proto


def to_array(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """The array of a TensorProto, as `tf.make_ndarray` makes it (read-only when the
    values come as raw bytes)."""
    dtype = _NUMPY_DTYPES.get(proto.dtype)
    if dtype is not None:
        shape = [d.size for d in proto.tensor_shape.dim]
        if proto.tensor_content:
            return np.frombuffer(proto.tensor_content, dtype).reshape(shape)
        values = getattr(proto, _VALUE_FIELDS[proto.dtype])
        if dtype != np.float16 and len(values) == math.prod(shape):
            return np.array(values, dtype).reshape(shape)
    return tf.make_ndarray(proto)  # strings, bools, one value broadcast...


def to_json(array: np.ndarray, name: str):
    """What `json_bytes` writes as nested lists: numbers stay an array. Strings follow
    TF Serving's REST rule: an output whose name ends in `_bytes` (e.g. `png_bytes`) is
    binary and comes as `{"b64": ...}`; other strings come as JSON strings (a text
    model's `text`), unless they are not UTF-8 text, which no JSON string can carry
    (the `png` output of exports made before the rule)."""
    if array.dtype == object or array.dtype.kind == "S":
        return _strings_json(array.tolist(), name.endswith("_bytes"))
    return array


def json_bytes(body) -> bytes:
    """A REST answer as UTF-8 JSON, its arrays as nested lists. orjson writes arrays
    natively, 10x faster than `tolist` and `json`; but only the standard library writes
    NaN and infinities as TF Serving does (`NaN`, `Infinity`), where orjson writes null."""
    if _finite(body):  # arrays orjson does not take (not C-contiguous...) become lists
        return orjson.dumps(body, default=_tolist, option=orjson.OPT_SERIALIZE_NUMPY)
    return json.dumps(body, ensure_ascii=False, default=_tolist).encode()


def _tolist(value):
    return value.tolist()


def _finite(value) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    if isinstance(value, (np.ndarray, np.floating)) and value.dtype.kind in "fc":
        return bool(np.isfinite(value).all())
    return not isinstance(value, float) or math.isfinite(value)


def _strings_json(value, binary: bool):
    if isinstance(value, list):
        return [_strings_json(v, binary) for v in value]
    if not binary:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return {"b64": base64.b64encode(value).decode("ascii")}
