"""`pairs:` folders and the batches translation models train on."""

import numpy as np
import pytest
from PIL import Image

from keras_gan.data import DataError
from keras_gan.data import ImageData
from keras_gan.data import load_dataset
from keras_gan.data.pipeline import make_dataset


def write(folder, name, value, size=20):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (size, size), value).save(path)


@pytest.fixture
def domains(tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    for i in range(5):
        write(a, f"{i}.png", 10 * i)
        write(b, f"{i}.png", 10 * i + 100)
    write(a, "sub/7.png", 70)
    write(b, "sub/7.png", 170)
    write(a, "only_a.png", 1)
    (b / "broken.png").write_bytes(b"\x89PNG\r\n")
    return a, b


def test_paired_folders_pair_files_of_the_same_name(domains):
    a, b = domains
    data = load_dataset(f"pairs:{a},{b}", image_size=8)
    assert data.paired and len(data) == 6
    np.testing.assert_array_equal(data.images[:, 0, 0, 0], data.sources[:, 0, 0, 0] + 100)
    assert data.report["skipped"] == {"no partner of the same name": 1, "not a readable image": 1}
    assert data.report["skipped_examples"]["no partner of the same name"] == ["A/only_a.png"]


def test_unpaired_folders_keep_every_image(domains):
    a, b = domains
    data = load_dataset(f"pairs:{a},{b}?unpaired=1", image_size=8)
    assert not data.paired
    assert (len(data.sources), len(data.images)) == (7, 6)


@pytest.mark.parametrize(
    "rest, message",
    [
        ("{a}", "expected pairs:A_DIR,B_DIR"),
        ("{a},{a}/nope", "is not a folder"),
        ("{a},{b}?pairs=yes", "the only option is unpaired=0|1"),
        ("{a},{b}?unpaired=2", "the only option is unpaired=0|1"),
    ],
)
def test_bad_pair_specs(domains, rest, message):
    a, b = domains
    with pytest.raises(DataError, match=message):
        load_dataset("pairs:" + rest.format(a=a, b=b), image_size=8)


def test_no_pair_at_all_is_an_error(tmp_path):
    write(tmp_path / "A", "x.png", 0)
    write(tmp_path / "B", "y.png", 0)
    with pytest.raises(DataError, match="no usable pair"):
        load_dataset(f"pairs:{tmp_path / 'A'},{tmp_path / 'B'}", image_size=8)


def _data(paired):
    values = np.arange(12, dtype=np.uint8)
    return ImageData(
        images=np.broadcast_to(values[:, None, None, None], (12, 2, 2, 1)).copy(),
        sources=np.broadcast_to(values[:9, None, None, None] + 100, (9, 2, 2, 1)).copy()
        if not paired
        else np.broadcast_to(values[:, None, None, None] + 100, (12, 2, 2, 1)).copy(),
        paired=paired,
    )


def _pixels(batch, key):
    return np.round((batch[key].numpy()[:, 0, 0, 0] + 1) * 127.5).astype(int)


def test_batches_keep_pairs_together_and_shuffle_unpaired_domains_apart():
    batches = list(make_dataset(_data(True), 4, (0, 0), seed=3, conditional=False).take(6))
    for batch in batches:
        np.testing.assert_array_equal(_pixels(batch, "sources"), _pixels(batch, "images") + 100)
    unpaired = list(make_dataset(_data(False), 4, (0, 0), seed=3, conditional=False).take(9))
    sources = np.concatenate([_pixels(b, "sources") for b in unpaired]) - 100
    images = np.concatenate([_pixels(b, "images") for b in unpaired])
    # Each domain is a sequence of its own epochs: every image once per epoch.
    assert sorted(sources[:9]) == list(range(9)) and sorted(images[:12]) == list(range(12))
    assert not np.array_equal(sources[:9], images[:9])


def test_pix2pix_trains_on_pair_folders_and_says_what_it_cannot_do(domains, tmp_path):
    from keras_gan.config import ConfigError
    from keras_gan.config import RunConfig
    from keras_gan.sampling import SourceError
    from keras_gan.sampling import load_sampler
    from keras_gan.training import fit
    from tests.tiny import TINY

    a, b = domains
    config = RunConfig(model="pix2pix").override(
        [
            *(s for s in TINY if "latent_dim" not in s),
            f"data.spec=pairs:{a},{b}",
            "train.run_eagerly=true",
        ]
    )
    for bad in ("export_name=x", "train.eval_every=2"):
        with pytest.raises(ConfigError, match="pix2pix translates images"):
            fit(config.override([bad]), run_dir=tmp_path / bad, log=lambda line: None)
    _, run_dir = fit(config, run_dir=tmp_path / "run", log=lambda line: None)
    grid = Image.open(run_dir / "samples" / "step_000002.png")
    assert grid.size[1] == 3 * 16 + 4 * 2  # rows: sources, translations, targets
    with pytest.raises(SourceError, match="translates images and has no noise input"):
        load_sampler(run_dir)
