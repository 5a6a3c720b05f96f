"""`tfds:NAME[?data_dir=DIR&split=train&image=image&label=label&download=true]`: a TFDS
data set.

Read from `data_dir` (TFDS's default folder if not given); a data set not prepared
there is downloaded and prepared first, as `tfds.load` does, unless `download=false`
or downloads are forbidden (`kgan --offline`, `KGAN_OFFLINE=1`). The image feature is
resized like folder images; a `ClassLabel` label feature gives the class names.
"""

from __future__ import annotations

import numpy as np

from keras_gan.data.base import DataError
from keras_gan.data.base import ImageData
from keras_gan.files import downloads_allowed
from keras_gan.registry import DATASETS

OPTIONS = ("data_dir", "split", "image", "label", "download")


@DATASETS.register("tfds")
def load_tfds(rest: str, image_size: int, channels: int) -> ImageData:
    import tensorflow_datasets as tfds
    from PIL import Image

    from keras_gan.data.folder import to_mode

    name, _, query = rest.partition("?")
    options = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise DataError(f"tfds:{rest}: unknown option(s) {', '.join(unknown)}; valid: {OPTIONS}")
    split = options.get("split", "train")
    image_key, label_key = options.get("image", "image"), options.get("label", "label")
    download = options.get("download", "true").lower()
    if download not in ("true", "false"):
        raise DataError(f"tfds:{rest}: download must be true or false, got {download!r}")
    try:
        builder = tfds.builder(name, data_dir=options.get("data_dir"))
    except Exception as e:  # noqa: BLE001  (tfds raises many types; the message matters)
        raise DataError(f"tfds:{rest}: no TFDS data set {name!r} ({_first_line(e)})") from None
    if not builder.is_prepared():
        if download == "false" or not downloads_allowed():
            why = "download=false" if download == "false" else "downloads are off (--offline)"
            raise DataError(
                f"tfds:{rest}: {name!r} is not prepared in {builder.data_dir_root} and "
                f"{why}; prepare it on a machine with internet (tfds build {name} "
                "--data_dir DIR) and pass ?data_dir=DIR"
            )
        try:  # TFDS logs its own progress
            builder.download_and_prepare()
        except Exception as e:  # noqa: BLE001
            raise DataError(
                f"tfds:{rest}: downloading and preparing {name!r} into "
                f"{builder.data_dir_root} failed ({_first_line(e)}); on a machine without "
                f"internet, prepare it elsewhere (tfds build {name} --data_dir DIR) and "
                "pass ?data_dir=DIR"
            ) from None
    try:
        dataset = builder.as_dataset(split=split)
    except Exception as e:  # noqa: BLE001
        raise DataError(
            f"tfds:{rest}: cannot read split {split!r} of {name!r} ({_first_line(e)}); "
            f"it has {', '.join(builder.info.splits)}"
        ) from None
    features = builder.info.features
    if image_key not in features:
        raise DataError(f"tfds:{rest}: no feature {image_key!r}; it has {', '.join(features)}")
    label_names = None
    if label_key in features and hasattr(features[label_key], "names"):
        label_names = list(features[label_key].names)
    images, labels = [], []
    for example in tfds.as_numpy(dataset):
        array = np.asarray(example[image_key])
        image = Image.fromarray(
            array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array
        )
        image = to_mode(image, "L" if channels == 1 else "RGB")
        image = image.resize((image_size, image_size), Image.Resampling.LANCZOS)
        image = np.asarray(image, np.uint8)
        images.append(image[..., None] if channels == 1 else image)
        if label_names is not None:
            labels.append(int(example[label_key]))
    if not images:
        raise DataError(f"tfds:{rest}: split {split!r} is empty")
    images = np.stack(images)
    report = {"split": split, "size": len(images)}
    if label_names is None:
        return ImageData(images=images, report=report)
    report["classes_without_images"] = len(set(range(len(label_names))) - set(labels))
    return ImageData.labelled(images, labels, label_names, report)


def _first_line(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
