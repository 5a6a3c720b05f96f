"""Request and answer encodings: TensorProtos byte for byte TensorFlow's, REST JSON as TF
Serving writes it."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from keras_gan_serving import tensors

DTYPES = [
    np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
    np.uint16, np.uint32, np.uint64, np.complex64, np.bool_,
]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 0, 4), (1, 64, 64, 1)], ids=str)
def test_tensor_protos_are_byte_for_byte_tensorflows(dtype, shape):
    array = (np.random.default_rng(0).random(shape) * 100).astype(dtype)
    proto = tensors.to_proto(array)
    assert proto.SerializeToString() == tf.make_tensor_proto(array).SerializeToString()
    back, want = tensors.to_array(proto), tf.make_ndarray(proto)
    assert back.dtype == want.dtype and back.shape == want.shape
    np.testing.assert_array_equal(back, want)


def test_a_single_value_broadcast_to_its_shape_decodes_as_tensorflow_does():
    proto = tf.make_tensor_proto(0.5, tf.float32, [2, 3])
    np.testing.assert_array_equal(tensors.to_array(proto), np.full((2, 3), 0.5, np.float32))


def test_rest_json_writes_arrays_as_lists_and_non_finite_numbers_as_tf_serving_does():
    images = np.arange(8, dtype=np.uint8).reshape(1, 2, 2, 2)
    body = {"outputs": {"images": tensors.to_json(images, "images"), "z": np.float32([0.1])}}
    want = b'{"outputs":{"images":[[[[0,1],[2,3]],[[4,5],[6,7]]]],"z":[0.1]}}'
    assert tensors.json_bytes(body) == want
    # TF Serving's REST API writes NaN and Infinity (its JSON conformance note)
    z = np.array([[np.nan, np.inf], [-np.inf, 1.5]], np.float32)
    text = tensors.json_bytes({"outputs": {"z": z, "row": [{"z": z[0, 0]}]}})
    assert text == b'{"outputs": {"z": [[NaN, Infinity], [-Infinity, 1.5]], "row": [{"z": NaN}]}}'
    assert math.isnan(json.loads(text)["outputs"]["row"][0]["z"])  # not null


def test_rest_json_writes_arrays_orjson_does_not_take_natively():
    every_other = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]  # not C-contiguous
    text = tensors.json_bytes({"z": every_other, "ok": np.array([True, False])})
    assert json.loads(text) == {"z": every_other.tolist(), "ok": [True, False]}
