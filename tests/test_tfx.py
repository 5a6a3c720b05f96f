"""The TFX Trainer module, called as the Trainer calls it, with TFX's FnArgs fields.

TFX itself does not install here (KERAS_NOTES.md): its FnArgs is used when importable,
else a stand-in with the same fields; the LocalDagRunner pipeline runs only with TFX.
"""

import dataclasses
import json

import numpy as np
import pytest

from keras_gan import sampling
from keras_gan import tfx as kgan_tfx
from keras_gan_serving.server import ModelServer
from tests.data.test_tfrecord import example
from tests.data.test_tfrecord import write
from tests.tiny import TINY

try:
    from tfx.components.trainer.fn_args_utils import FnArgs
except ImportError:

    @dataclasses.dataclass
    class FnArgs:
        """tfx.components.trainer.fn_args_utils.FnArgs (TFX 1.x): the same fields."""

        working_dir: str = None
        train_files: list = None
        eval_files: list = None
        train_steps: int = None
        eval_steps: int = None
        schema_path: str = None
        schema_file: str = None
        transform_graph_path: str = None
        transform_output: str = None
        data_accessor: object = None
        serving_model_dir: str = None
        eval_model_dir: str = None
        model_run_dir: str = None
        base_model: str = None
        hyperparameters: str = None
        custom_config: dict = None


CUSTOM = {
    "config": {"model": "glyph_gan", "data": {"image_size": 16}},
    "set": [s for s in TINY if not s.startswith(("data.image_size", "train.steps"))],
}


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """ImportExampleGen's output: Split-train/ and Split-eval/ of GZIP tf.Example files."""
    root = tmp_path_factory.mktemp("examples")
    rng = np.random.default_rng(1)
    for split, count in (("train", 12), ("eval", 4)):
        images = rng.integers(0, 256, (count, 16, 16), dtype=np.uint8)
        records = [example(im, k % 4) for k, im in enumerate(images)]
        write(root / f"Split-{split}" / "data_tfrecord-00000-of-00001.gz", records, gzip=True)
    return root


def fn_args(examples, out, **changes):
    values = dict(
        working_dir=str(out / "working"),
        train_files=[str(examples / "Split-train" / "*")],
        eval_files=[str(examples / "Split-eval" / "*")],
        train_steps=2,
        serving_model_dir=str(out / "model" / "Format-Serving"),
        model_run_dir=str(out / "model_run"),
        custom_config={**CUSTOM, "push_to": str(out / "saved_models" / "gan")},
    )
    values.update(changes)
    return FnArgs(**values)


def test_run_fn_trains_exports_and_publishes(examples, tmp_path):
    args = fn_args(examples, tmp_path)
    (tmp_path / "model" / "Format-Serving").mkdir(parents=True)  # as the Trainer leaves it
    kgan_tfx.run_fn(args)

    serving = tmp_path / "model" / "Format-Serving"
    meta = json.loads((serving / "assets.extra" / "kgan.json").read_text())
    assert meta["labels"] == ["0", "1", "2", "3"] and meta["image_size"] == 16
    assert meta["config"]["data"]["spec"] == f"tfrecord:{examples}/Split-train/*"
    log = (tmp_path / "model_run" / "log.csv").read_text().splitlines()
    assert log[-1].startswith("2,")  # trained the Trainer's train_steps
    published = tmp_path / "saved_models" / "gan" / "1"
    assert (published / "saved_model.pb").is_file()
    images = sampling.load_sampler(published).generate([0, 1], [0, 3])
    np.testing.assert_array_equal(images, sampling.load_sampler(serving).generate([0, 1], [0, 3]))

    with ModelServer(tmp_path / "saved_models", port=0, rest_port=None) as server:
        assert server.repository.get("gan").metadata["labels"] == ["0", "1", "2", "3"]

    # A Trainer re-run on the same run folder resumes rather than failing or restarting.
    again = fn_args(examples, tmp_path, serving_model_dir=str(tmp_path / "model2"), train_steps=3)
    kgan_tfx.run_fn(again)
    log = (tmp_path / "model_run" / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in log[1:]] == ["2", "3"]
    assert (tmp_path / "saved_models" / "gan" / "2" / "saved_model.pb").is_file()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"custom_config": {"epochs": 3}}, "unknown key(s) epochs"),
        ({"train_files": []}, "train_files is empty"),
        ({"custom_config": {"set": ["train.nope=1"]}}, "nope"),
    ],
)
def test_bad_trainer_arguments_are_clear(examples, tmp_path, changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kgan_tfx.config_for(fn_args(examples, tmp_path, **changes))


def test_local_dag_runner_pipeline(examples, tmp_path):
    tfx = pytest.importorskip("tfx.v1", reason="TFX does not install on this platform")
    example_gen = tfx.components.ImportExampleGen(input_base=str(examples / "Split-train"))
    trainer = tfx.components.Trainer(
        run_fn="keras_gan.tfx.run_fn",
        examples=example_gen.outputs["examples"],
        train_args=tfx.proto.TrainArgs(num_steps=2),
        eval_args=tfx.proto.EvalArgs(num_steps=1),
        custom_config=CUSTOM,
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=str(tmp_path / "saved_models" / "gan")
            )
        ),
    )
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="kgan",
        pipeline_root=str(tmp_path / "root"),
        components=[example_gen, trainer, pusher],
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(tmp_path / "metadata.db")
        ),
    )
    tfx.orchestration.LocalDagRunner().run(pipeline)
    [version] = (tmp_path / "saved_models" / "gan").iterdir()
    assert sampling.load_sampler(version).generate([0], [1]).shape == (1, 16, 16, 1)
