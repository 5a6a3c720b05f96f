import json
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from keras_gan.data import DataError
from keras_gan.data import folder as folder_lib
from keras_gan.data import load_dataset


def save(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


@pytest.fixture
def messy(tmp_path, monkeypatch):
    """Two classes of good images in every colour mode, plus every kind of bad file."""
    root = tmp_path / "images"
    rng = np.random.default_rng(0)
    gray = Image.fromarray(rng.integers(0, 256, (20, 30), dtype=np.uint8))
    save(root / "cat" / "gray.png", gray)
    save(root / "cat" / "rgb.jpg", gray.convert("RGB"))
    save(root / "cat" / "cmyk.jpg", gray.convert("CMYK"))
    save(root / "dog" / "palette.png", gray.convert("P"))
    sixteen = Image.fromarray(np.full((8, 8), 65535, np.uint16))  # white in 16 bits
    save(root / "dog" / "sixteen.png", sixteen)
    ink = Image.new("LA", (8, 8), (0, 0))  # fully transparent: white once composed
    save(root / "dog" / "alpha.png", ink)
    (root / "dog" / "empty.png").write_bytes(b"")
    (root / "dog" / "fake.png").write_bytes(b"this is text, not a PNG")
    good = (root / "cat" / "gray.png").read_bytes()
    (root / "dog" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "dog" / "notes.txt").write_text("hello")
    (root / "loose.png").write_bytes(good)
    os.mkdir(os.fsencode(root / "dog") + b"/sub")
    with open(os.fsencode(root / "dog" / "sub") + b"/caf\xe9.png", "wb") as f:
        f.write(good)  # a non-UTF-8 file name
    monkeypatch.setattr(folder_lib, "MAX_PIXELS", 1000)
    save(root / "dog" / "huge.png", Image.new("L", (40, 40)))  # over the (patched) cap
    (root / "dog" / "bomb.png").write_bytes(png_header(100_000, 100_000))  # 10 G pixels
    os.symlink("loop-b.png", root / "dog" / "loop-a.png")
    os.symlink("loop-a.png", root / "dog" / "loop-b.png")
    os.symlink("missing.png", root / "dog" / "dangling.png")
    os.symlink("..", root / "dog" / "sub" / "up")  # a folder loop: never followed
    return root


def png_header(width, height):
    """A PNG that declares width x height pixels in 45 bytes and holds none."""

    def chunk(kind, body):
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_every_bad_file_is_counted_and_no_good_one_lost(messy):
    data = load_dataset(f"folder:{messy}", image_size=16, channels=1)
    assert data.label_names == ["cat", "dog"]
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert data.images.shape == (7, 16, 16, 1)
    skipped = data.report["skipped"]
    assert skipped == {
        "empty file": 1,
        "not a readable image": 1,
        "truncated or corrupt image": 1,
        "not an image file name": 1,
        "outside a class folder": 1,
        "over 1,000 pixels": 2,
        "broken or looping symbolic link": 3,
        "symbolic link to a folder (not followed)": 1,
    }
    assert data.report["skipped_examples"]["empty file"] == ["dog/empty.png"]
    by_name = dict(zip(["alpha", "palette", "sixteen"], data.images[[3, 4, 5]]))
    assert (by_name["sixteen"] == 255).all()  # scaled, not clipped to 255 by accident
    assert (by_name["alpha"] == 255).all()  # transparent is paper, not ink


def test_rgb_and_unlabelled(tmp_path):
    save(tmp_path / "a.png", Image.new("RGB", (40, 20), (255, 0, 0)))
    data = load_dataset(f"folder:{tmp_path}", image_size=8, channels=3)
    assert data.labels is None and data.images.shape == (1, 8, 8, 3)
    assert data.images[0, 0, 0].tolist() == [255, 0, 0]


@pytest.mark.parametrize(
    "layout, message",
    [
        ({}, "no usable image"),
        ({"a/x.png": b"", "b/y.png": None}, "class folder(s) a hold no usable image"),
    ],
)
def test_unusable_folders_are_clear_errors(tmp_path, layout, message):
    for name, content in layout.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            Image.new("L", (8, 8)).save(path)
        else:
            path.write_bytes(content)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_dataset(f"folder:{tmp_path}", image_size=8, channels=1)
    with pytest.raises(DataError, match="is not a folder"):
        load_dataset(f"folder:{tmp_path}/nope", image_size=8, channels=1)


@pytest.fixture(scope="module")
def tiny_builders():
    """Two real (tiny) TFDS builders: one makes its examples, one downloads a file."""
    import tensorflow_datasets as tfds

    class KganTinyShapes(tfds.core.GeneratorBasedBuilder):
        """12 gray 20x20 squares and crosses, by class."""

        VERSION = tfds.core.Version("1.0.0")
        RELEASE_NOTES = {"1.0.0": "test data"}

        def _info(self):
            return self.dataset_info_from_configs(
                features=tfds.features.FeaturesDict(
                    {
                        "image": tfds.features.Image(shape=(20, 20, 1)),
                        "label": tfds.features.ClassLabel(names=["square", "cross"]),
                    }
                )
            )

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples()}

        def _generate_examples(self):
            for i in range(12):
                image = np.full((20, 20, 1), 255, np.uint8)
                if i % 2:
                    image[9:11, 2:18] = image[2:18, 9:11] = 0
                else:
                    image[4:16, 4:16] = 0
                yield i, {"image": image, "label": i % 2}

    class KganTinyDownload(tfds.core.GeneratorBasedBuilder):
        """Gray levels read from a downloaded file, one 8x8 image per byte."""

        VERSION = tfds.core.Version("1.0.0")
        RELEASE_NOTES = {"1.0.0": "test data"}
        URL = "https://example.org/kgan-tiny/levels.bin"

        def _info(self):
            return self.dataset_info_from_configs(
                features=tfds.features.FeaturesDict({"image": tfds.features.Image(shape=(8, 8, 1))})
            )

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(dl_manager.download(self.URL))}

        def _generate_examples(self, path):
            for i, level in enumerate(path.read_bytes()):
                yield i, {"image": np.full((8, 8, 1), level, np.uint8)}

    return KganTinyShapes, KganTinyDownload


def test_a_tfds_data_set_prepared_in_data_dir_loads(tmp_path, tiny_builders):
    """Prepared into a folder by TFDS itself, read back by `tfds:NAME?data_dir=`."""
    tiny_builders[0](data_dir=str(tmp_path)).download_and_prepare()
    data = load_dataset(f"tfds:kgan_tiny_shapes?data_dir={tmp_path}", 16, 1)
    assert data.images.shape == (12, 16, 16, 1) and data.images.dtype == np.uint8
    assert data.label_names == ["square", "cross"]
    assert np.bincount(data.labels).tolist() == [6, 6]
    # Both are dark in the middle; off the arms, only the square is.
    for image, label in zip(data.images[..., 0], data.labels):
        assert image[8, 8] < 64 and (image[4, 4] < 64) == (label == 0)


@pytest.fixture
def network(monkeypatch, tmp_path):
    """Downloads allowed, with TFDS's one network call replaced at the boundary: the
    URLs asked for are recorded, and the bytes come from `served` (or it fails)."""
    import tensorflow_datasets as tfds
    from etils import epath

    monkeypatch.delenv("KGAN_OFFLINE", raising=False)
    asked, served = [], {}

    def download(self, url):
        asked.append(url)
        if url not in served:
            raise ConnectionError(f"Failed to establish a new connection to {url}")
        path = tmp_path / "downloads" / str(len(asked))
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(served[url])
        return epath.Path(path)

    monkeypatch.setattr(tfds.download.DownloadManager, "download", download)
    return asked, served


def test_tfds_downloads_and_prepares_a_missing_data_set(tmp_path, tiny_builders, network):
    asked, served = network
    url = tiny_builders[1].URL
    served[url] = bytes([0, 128, 255])
    data = load_dataset(f"tfds:kgan_tiny_download?data_dir={tmp_path / 'tfds'}", 8, 1)
    assert asked == [url]
    assert data.images[:, 0, 0, 0].tolist() == [0, 128, 255]
    # Prepared once: read again from data_dir, nothing asked for.
    load_dataset(f"tfds:kgan_tiny_download?data_dir={tmp_path / 'tfds'}", 8, 1)
    assert asked == [url]
    # A data set that makes its own examples is prepared on demand too.
    shapes = load_dataset(f"tfds:kgan_tiny_shapes?data_dir={tmp_path / 'tfds'}", 16, 1)
    assert shapes.label_names == ["square", "cross"] and asked == [url]


def test_tfds_download_failures_and_refusals_are_clear(
    tmp_path, tiny_builders, network, monkeypatch
):
    asked, _ = network
    spec = f"tfds:kgan_tiny_download?data_dir={tmp_path}"
    with pytest.raises(DataError, match=r"downloading and preparing 'kgan_tiny_download' into .* "
                       r"failed \(.*ConnectionError.*tfds build kgan_tiny_download"):  # fmt: skip
        load_dataset(spec, 8, 1)
    # Nothing half-made counts as prepared: the next read still finds it missing.
    with pytest.raises(DataError, match=r"is not prepared in .* and download=false; prepare"):
        load_dataset(spec + "&download=false", 8, 1)
    monkeypatch.setenv("KGAN_OFFLINE", "1")
    with pytest.raises(DataError, match=r"not prepared .* downloads are off \(--offline\)"):
        load_dataset(spec, 8, 1)
    assert len(asked) == 1  # only the failed attempt reached the boundary
    with pytest.raises(DataError, match="download must be true or false, got 'maybe'"):
        load_dataset(spec + "&download=maybe", 8, 1)
    with pytest.raises(DataError, match="unknown option.s. colour"):
        load_dataset("tfds:mnist?colour=1", image_size=16, channels=1)
    with pytest.raises(DataError, match="no TFDS data set 'no_such_set'"):
        load_dataset("tfds:no_such_set", image_size=16, channels=1)


def test_the_suite_and_kgan_offline_never_download(tmp_path, monkeypatch):
    """conftest turns downloads off, so a missing data set is an error, not a fetch;
    `kgan --offline` does the same for a command."""
    from click.testing import CliRunner

    from keras_gan_cli.main import cli

    with pytest.raises(DataError, match="downloads are off"):
        load_dataset(f"tfds:mnist?data_dir={tmp_path}", image_size=16, channels=1)
    monkeypatch.delenv("KGAN_OFFLINE")
    spec = f"tfds:mnist?data_dir={tmp_path}"
    result = CliRunner().invoke(
        cli, ["--offline", "data", "prepare", "--dataset", spec, "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2, result.output
    assert "'mnist' is not prepared in" in result.output and "downloads are off" in result.output


def test_prepare_writes_tfrecords_that_load_back(messy, tmp_path):
    from click.testing import CliRunner

    from keras_gan_cli.main import cli

    out = tmp_path / "prepared"
    result = CliRunner().invoke(
        cli,
        ["data", "prepare", "--dataset", f"folder:{messy}", "--image-size", "16",
         "--shard-size", "4", "--out", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output)
    assert manifest["num_examples"] == 7 and len(manifest["files"]) == 2
    assert manifest["counts"] == {"cat": 3, "dog": 4}
    assert manifest["report"]["skipped"]["empty file"] == 1
    original = load_dataset(f"folder:{messy}", image_size=16, channels=1)
    back = load_dataset(f"tfrecord:{out}/*.tfrecord", image_size=16, channels=1)
    np.testing.assert_array_equal(back.images, original.images)
    assert back.labels.tolist() == original.labels.tolist()
    assert back.label_names == ["cat", "dog"]
    again = CliRunner().invoke(cli, ["data", "prepare", "--dataset", f"folder:{messy}",
                                     "--out", str(out)])  # fmt: skip
    assert again.exit_code == 2 and "already exists" in again.output


def test_a_zoo_model_trains_on_folder_data(messy, tmp_path):
    from keras_gan import training
    from keras_gan.config import RunConfig
    from tests.tiny import TINY

    config = RunConfig(runs_root=str(tmp_path / "runs")).override(
        TINY + ["model=acgan", f"data.spec=folder:{messy}", "model_kwargs.embedding_dim=4"]
    )
    model, run_dir = training.fit(config, log=lambda line: None)
    dataset = json.loads((run_dir / "dataset.json").read_text())
    assert dataset["label_names"] == ["cat", "dog"] and dataset["size"] == 7
    assert int(model.g_optimizer.iterations) == 2


def test_phone_photos_load_upright_by_their_exif_orientation(tmp_path):
    # Stored 40 wide, 20 high, dark on the left; the tag says "turn 90 degrees
    # clockwise to view": every viewer shows 20 x 40 with the dark half on top.
    stored = np.full((20, 40), 255, np.uint8)
    stored[:, :20] = 0
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "photo.jpg", exif=exif, quality=95)
    image, reason = folder_lib.decode_image(tmp_path / "photo.jpg", "L")
    assert reason is None and image.size == (20, 40)
    pixels = np.asarray(image)
    assert pixels[:20].mean() < 30 and pixels[20:].mean() > 225
    data = load_dataset(f"folder:{tmp_path}", 8)  # the data set sees it upright too
    assert data.images[0, :4].mean() < data.images[0, 4:].mean()
