import io
import json
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_gan.data import DataError
from keras_gan.data import load_dataset


def png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def example(image=None, label=None, raw=None):
    feature = {}
    if image is not None or raw is not None:
        data = raw if raw is not None else png(image)
        feature["image_raw"] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[data]))
    if label is not None:
        feature["label"] = tf.train.Feature(int64_list=tf.train.Int64List(value=[label]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write(path, records, gzip=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path), "GZIP" if gzip else None) as writer:
        for record in records:
            writer.write(record)
    return path


def test_example_gen_layout_with_skipped_records(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 20, 20), dtype=np.uint8)
    records = [example(im, k % 3) for k, im in enumerate(images)]
    records += [b"not an example", example(raw=b"\x89PNG broken", label=0), example(label=1)]
    write(tmp_path / "Split-train" / "data_tfrecord-00000-of-00001.gz", records, gzip=True)
    data = load_dataset(f"tfrecord:{tmp_path}/Split-train/*", image_size=16, channels=1)
    assert data.images.shape == (6, 16, 16, 1) and data.images.dtype == np.uint8
    assert data.labels.tolist() == [0, 1, 2, 0, 1, 2] and data.label_names == ["0", "1", "2"]
    assert data.reference_images.shape == (3, 16, 16, 1)
    expected = np.asarray(Image.fromarray(images[1]).resize((16, 16), Image.Resampling.LANCZOS))
    np.testing.assert_array_equal(data.images[1, ..., 0], expected)
    assert data.report["skipped"] == {
        "not a tf.Example": 1,
        "undecodable image": 1,
        "no single 'image_raw' bytes feature": 1,
    }


def test_manifest_names_labels_and_unlabelled_records(tmp_path):
    image = np.full((8, 8, 3), 200, np.uint8)
    write(tmp_path / "a.tfrecord", [example(image, 0), example(image, 1)])
    (tmp_path / "manifest.json").write_text(json.dumps({"labels": ["永", "字"]}))
    data = load_dataset(f"tfrecord:{tmp_path}/*.tfrecord", image_size=8, channels=3)
    assert data.label_names == ["永", "字"] and data.images.shape == (2, 8, 8, 3)
    write(tmp_path / "u" / "b.tfrecord", [example(image, -1), example(image)])
    data = load_dataset(f"tfrecord:{tmp_path}/u/*", image_size=8, channels=3)
    assert data.labels is None and len(data) == 2


@pytest.mark.parametrize(
    "records, message",
    [
        (None, "no file matches"),
        ([example(np.zeros((8, 8), np.uint8), 1)], "no image for label id(s) [0]"),
        ([b"junk"], "no usable record"),
    ],
)
def test_bad_record_files_are_clear_errors(tmp_path, records, message):
    if records is not None:
        write(tmp_path / "x.tfrecord", records)
    with pytest.raises(DataError, match=re.escape(message)):
        load_dataset(f"tfrecord:{tmp_path}/*.tfrecord", image_size=8, channels=1)


def test_a_file_that_is_not_a_tfrecord_is_named(tmp_path):
    (tmp_path / "x.tfrecord").write_bytes(b"\x00" * 40)
    with pytest.raises(DataError, match="x.tfrecord: not a readable TFRecord file"):
        load_dataset(f"tfrecord:{tmp_path}/x.tfrecord", image_size=8, channels=1)
