"""Text models through the same `kgan` paths as images: fit, resume, sample, export, serve."""

import json
import urllib.request

import grpc
import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from keras_gan import sampling
from keras_gan import training
from keras_gan.config import RunConfig
from keras_gan.data import load_dataset
from keras_gan.data.text import held_out
from keras_gan.export import export_generator
from keras_gan.models.text import TextRelGAN
from keras_gan.models.text import line_nll
from keras_gan.noise import noise_for_seeds
from keras_gan_cli.main import cli
from keras_gan_serving.server import ModelServer
from tests.serving.test_server import predict_request

LINES = ["春眠不觉晓，处处闻啼鸟。", "夜来风雨声，花落知多少。", "hello world"]
TINY_TEXT = [
    "train.batch_size=8",
    "train.log_every=2",
    "train.sample_every=2",
    "train.checkpoint_every=2",
    "train.sample_seeds=1",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    assert not any(held_out(line) for line in LINES)
    path = tmp_path_factory.mktemp("text") / "poems.txt"
    path.write_text("\n".join(LINES * 8) + "\n", encoding="utf-8")
    return path


def text_config(root, corpus, model, *extra):
    settings = [f"model={model}", f"data.spec=text:{corpus}?length=16", *TINY_TEXT, *extra]
    return RunConfig(runs_root=str(root)).override(settings)


def quiet(line):
    pass


@pytest.fixture(scope="module")
def mle_run(tmp_path_factory, corpus):
    root = tmp_path_factory.mktemp("mle")
    config = text_config(
        root,
        corpus,
        "text_mle",
        "train.steps=150",
        "model_kwargs.units=64",
        "train.sample_every=150",
        "train.checkpoint_every=150",
    )
    model, run_dir = training.fit(config, log=quiet)
    return model, run_dir


def test_the_mle_model_learns_its_corpus(mle_run):
    model, run_dir = mle_run
    sampler = sampling.load_sampler(run_dir)
    assert sampler.modality == "text" and sampler.vocab[0] == ""
    most_likely = sampler.lines(range(20), temperature=0)
    assert set(most_likely) <= set(LINES) and len(set(most_likely)) == 1
    drawn = sampler.lines(range(200), temperature=1.0)
    assert set(drawn) >= set(LINES)  # all three lines come back
    # nats per character of the corpus itself: near its entropy (a choice of 3 lines)
    data = load_dataset(f"text:{sampler.training_config['data']['spec'].split(':', 1)[1]}")
    nll = model.nll(data.tokens).numpy()
    assert nll.shape == (len(data),) and nll.max() < 0.3


def test_nll_counts_characters_up_to_the_end_of_line(mle_run):
    model, _ = mle_run
    tokens = np.zeros((2, 16), np.int32)
    tokens[0, :3] = [5, 6, 7]
    tokens[1, :1] = [4]
    inputs = np.pad(tokens[:, :-1], ((0, 0), (1, 0)))
    logits = model.generator(inputs).numpy().astype(np.float64)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = [
        -np.mean([log_p[0, t, tokens[0, t]] for t in range(4)]),  # 3 characters + the end
        -np.mean([log_p[1, t, tokens[1, t]] for t in range(2)]),
    ]
    np.testing.assert_allclose(model.nll(tokens).numpy(), expected, rtol=1e-5)


def test_lines_depend_only_on_their_seed_and_temperature(mle_run):
    sampler = sampling.load_sampler(mle_run[1])
    assert sampler.lines([7], 1.0) == sampler.lines([5, 6, 7], 1.0)[2:]
    assert sampler.lines([7], 1.0) == sampler.lines([7], 1.0)


GANS = {
    "text_wgan_gp": (
        ["model_kwargs.width=16", "model_kwargs.blocks=1", "train.n_critic=2"],
        {"step", "d_loss", "g_loss", "gp", "d_overfit", "loss", "lines_per_sec"},
    ),
    "text_relgan": (
        ["model_kwargs.units=16", "model_kwargs.filters=8", "model_kwargs.anneal_steps=4"],
        {"step", "d_loss", "g_loss", "d_overfit", "loss", "lines_per_sec"},
    ),
}


@pytest.mark.parametrize("name", sorted(GANS))
def test_text_gans_train_log_and_resume_exactly(tmp_path, corpus, name):
    small, columns = GANS[name]
    straight, _ = training.fit(
        text_config(tmp_path / "a", corpus, name, "train.steps=4", *small), log=quiet
    )
    _, run_dir = training.fit(
        text_config(tmp_path / "b", corpus, name, "train.steps=2", *small), log=quiet
    )
    resumed, _ = training.fit(
        text_config(tmp_path / "b", corpus, name, "train.steps=4", *small),
        run_dir=run_dir,
        resume=True,
        log=quiet,
    )
    # RelGAN's unrolled LSTM is not bit-reproducible on CPU even between two identical
    # uninterrupted runs (measured: 1e-7 relative, with deterministic ops too).
    exact = name != "text_relgan"
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0 if exact else 1e-5, atol=0)
    header = (run_dir / "log.csv").read_text().splitlines()[0].split(",")
    assert set(header) == columns
    text = (run_dir / "samples" / "step_000004.txt").read_text(encoding="utf-8")
    assert text.startswith(f"# model {name}, step 4, generated (not real) text")
    z = noise_for_seeds([0, 1, 2], resumed.latent_dim)
    fake = resumed.generate(z, training=False).numpy()
    assert fake.shape == (3, 16, resumed.vocab_size)
    np.testing.assert_allclose(fake.sum(-1), 1.0, rtol=1e-5)  # a distribution per position
    tokens = resumed.tokens(z, 0.0).numpy()
    assert tokens.shape == (3, 16) and tokens.max() < resumed.vocab_size


def test_relgan_pretraining_step_is_maximum_likelihood_at_beta_one():
    keras.utils.set_random_seed(0)
    gan = TextRelGAN(vocab_size=6, length=5, latent_dim=4, units=8, filters=4, pretrain_steps=2)
    gan.compile()
    rng = np.random.default_rng(0)
    tokens = np.array([[1, 2, 3, 0, 0], [5, 4, 3, 2, 1], [2, 0, 0, 0, 0]], np.int32)
    data = {"tokens": tokens, "noise": rng.normal(size=(3, 2, 4)).astype("float32")}
    rows = tf.one_hot(tokens, 6)
    # Teacher forcing feeds the true previous character (none at the start): the logits
    # at t follow from tokens[:, :t] only.
    logits = gan.generator.teacher_forced(data["noise"][:, 1], rows).numpy()
    changed = rows.numpy().copy()
    changed[:, 3:] = np.eye(6)[1]
    np.testing.assert_array_equal(
        gan.generator.teacher_forced(data["noise"][:, 1], changed).numpy()[:, :4], logits[:, :4]
    )
    expected = line_nll(tokens, logits).numpy().mean()
    logs = gan.train_step(data)
    assert float(logs["g_loss"]) == pytest.approx(expected, rel=1e-6)
    assert float(gan.beta()) == 1.0  # annealing waits for the adversarial phase
    # Greedy sampling is the same network: feeding its own choices back reproduces them.
    z = rng.normal(size=(4, 4)).astype("float32")
    greedy = gan.tokens(z, 0.0).numpy()
    fed_back = gan.generator.teacher_forced(z, tf.one_hot(greedy, 6)).numpy()
    np.testing.assert_array_equal(fed_back.argmax(-1), greedy)
    gan.train_step(data)
    # Step 3 is adversarial: its G loss is the relativistic one, not the likelihood that
    # the same weights give (which steps 1-2 matched to 1e-6).
    likelihood = line_nll(tokens, gan.generator.teacher_forced(data["noise"][:, 1], rows))
    adversarial = gan.train_step(data)
    assert float(adversarial["g_loss"]) != pytest.approx(likelihood.numpy().mean(), rel=1e-3)
    assert float(gan.beta()) > 1.0


def test_relgan_pretraining_then_adversarial_steps_on_two_replicas(two_cpus):
    # The loss switches inside the step; the update stays outside control flow, where
    # MirroredStrategy allows it: two replicas equal one device with the same batch.
    from keras_gan.distributed import mirrored_strategy

    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 6, (3, 8, 5)).astype("int32")
    data = {"tokens": tokens, "noise": rng.normal(size=(3, 8, 2, 4)).astype("float32")}

    def train(strategy):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            gan = TextRelGAN(6, 5, latent_dim=4, units=8, filters=4, pretrain_steps=2)
            gan.compile()
        gan.fit(tf.data.Dataset.from_tensor_slices(data), epochs=1, verbose=0, shuffle=False)
        return gan

    one, two = (
        train(tf.distribute.OneDeviceStrategy(two_cpus[0])),
        train(mirrored_strategy(two_cpus)),
    )
    assert two.g_optimizer.iterations.numpy() == 3 and float(two.beta()) > 1.0
    for a, b in zip(one.variables, two.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-4, atol=2e-5, err_msg=a.path)


def test_relgan_pretraining_makes_g_a_language_model_of_its_corpus(tmp_path, corpus):
    settings = ["train.steps=150", "model_kwargs.units=64", "model_kwargs.pretrain_steps=150"]
    config = text_config(tmp_path, corpus, "text_relgan", *settings,
                         "train.g_learning_rate=2e-3", "train.sample_every=150",
                         "train.checkpoint_every=150")  # fmt: skip
    _, run_dir = training.fit(config, log=quiet)
    most_likely = sampling.load_sampler(run_dir).lines(range(20), temperature=0)
    assert set(most_likely) <= set(LINES) and len(set(most_likely)) > 1  # z picks the line
    g_loss = np.genfromtxt(run_dir / "log.csv", delimiter=",", names=True)["g_loss"]
    assert g_loss[0] > 3.0 and g_loss[-1] < 0.5  # nats per character


def test_image_and_text_models_and_data_do_not_mix(tmp_path, corpus):
    with pytest.raises(training.ConfigError, match="'text_mle' trains on text"):
        training.fit(
            RunConfig(runs_root=str(tmp_path)).override(["model=text_mle", "train.steps=1"])
        )
    with pytest.raises(training.ConfigError, match="'dcgan' trains on images"):
        training.fit(text_config(tmp_path, corpus, "dcgan", "train.steps=1"), log=quiet)
    with pytest.raises(training.ConfigError, match="text_relgan.*anneal_steps >= 1.*got 0, 0"):
        training.fit(
            text_config(tmp_path, corpus, "text_relgan", "model_kwargs.anneal_steps=0"),
            log=quiet,
        )
    with pytest.raises(training.ConfigError, match="GAN losses and regularisers do not apply"):
        training.fit(
            text_config(tmp_path, corpus, "text_mle", "train.gradient_penalty=10"), log=quiet
        )


def test_export_samples_and_serves_utf8_lines(mle_run, tmp_path):
    model, run_dir = mle_run
    from_run = sampling.load_sampler(run_dir)
    target = export_generator(model, tmp_path / "poems", labels=from_run.vocab)
    exported = sampling.load_sampler(target)
    for temperature in (0.0, 1.0):
        assert exported.lines(range(6), temperature) == from_run.lines(range(6), temperature)
    with ModelServer(tmp_path, port=0, rest_port=0) as server:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_request("poems", seed=np.int64([0, 1, 2]), temperature=np.float32(1.0))
        response = stub.Predict(request, timeout=60)
        lines = [b.decode("utf-8") for b in tf.make_ndarray(response.outputs["text"])]
        assert lines == from_run.lines(range(3), 1.0)
        bad = predict_request("poems", seed=np.int64([0]), temperature=np.float32(np.nan))
        with pytest.raises(grpc.RpcError) as error:
            stub.Predict(bad, timeout=60)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        channel.close()
        # REST follows TF Serving's `_bytes` rule: `text` is not `*_bytes`, so it comes
        # back as plain JSON strings, not {"b64": ...}.
        body = {"signature_name": "generate", "inputs": {"seed": [0, 1, 2], "temperature": 1.0}}
        answer = urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{server.rest_port}/v1/models/poems:predict",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            ),
            timeout=60,
        )
        assert json.loads(answer.read())["outputs"]["text"] == lines
        # `kgan predict` prints the served lines, over gRPC and REST
        common = ["predict", "--model", "poems", "--seeds", "0-2", "--temperature", "1"]
        grpc_target = ["--target", f"127.0.0.1:{server.port}"]
        for target in (grpc_target, ["--target", f"127.0.0.1:{server.rest_port}", "--rest"]):
            result = CliRunner().invoke(cli, [*common, *target])
            assert result.exit_code == 0, result.output
            assert result.output.splitlines() == lines
        as_json = CliRunner().invoke(cli, [*common, *grpc_target, "--json"])
        assert json.loads(as_json.stdout) == {"lines": lines}
        greedy = CliRunner().invoke(cli, [*common[:-1], "0", *grpc_target])
        assert greedy.output.splitlines() == from_run.lines(range(3), 0.0)
        refused = CliRunner().invoke(cli, [*common, "--labels", "a", *grpc_target])
        assert refused.exit_code == 2 and "takes no --labels" in refused.output


def test_kgan_sample_prints_one_line_per_sample(mle_run, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["sample", str(mle_run[1]), "--num-samples", "5"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == sampling.load_sampler(mle_run[1]).lines(range(5), 1.0)
    as_json = runner.invoke(cli, ["sample", str(mle_run[1]), "--num-samples", "5", "--json"])
    assert json.loads(as_json.stdout) == {"lines": result.output.splitlines()}
    greedy = runner.invoke(
        cli, ["sample", str(mle_run[1]), "--num-samples", "5", "--temperature", "0"]
    )
    assert greedy.exit_code == 0, greedy.output
    assert greedy.output.splitlines() == sampling.load_sampler(mle_run[1]).lines(range(5), 0.0)
    out = tmp_path / "lines.txt"
    result = runner.invoke(cli, ["sample", str(mle_run[1]), "--seeds", "3,4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected = sampling.load_sampler(mle_run[1]).lines([3, 4], 1.0)
    assert out.read_text(encoding="utf-8").splitlines() == expected
    result = runner.invoke(cli, ["sample", str(mle_run[1]), "--labels", "a", "--out", str(out)])
    assert result.exit_code == 2 and "takes no --labels" in result.output


def test_kgan_evaluate_scores_text_along_a_temperature_curve(mle_run, tmp_path):
    from keras_gan.metrics import text

    # lines of the model's characters: rotations of its corpus lines
    mixed = (line[k:] + line[:k] for line in LINES for k in range(1, len(line)))
    references = [line for line in mixed if held_out(line)][:4]
    path = tmp_path / "with_held_out.txt"
    path.write_text("\n".join(LINES * 8 + references) + "\n", encoding="utf-8")
    run_dir = str(mle_run[1])
    command = ["evaluate", run_dir, "--dataset", f"text:{path}?length=16", "--num-samples",
               "40", "--metrics", "bleu,selfbleu,jsd,nll", "--nll-model", run_dir]  # fmt: skip
    result = CliRunner().invoke(cli, [*command, "--temperature", "0,1", "--json"])
    assert result.exit_code == 0, result.output
    greedy, drawn = json.loads(result.output)["curve"]
    assert (greedy["protocol"]["temperature"], drawn["protocol"]["temperature"]) == (0, 1)
    assert greedy["protocol"]["distinct_lines"] == 1 and greedy["scores"]["selfbleu3"] == 1.0
    lines = sampling.load_sampler(run_dir).lines(range(40), 1.0)
    assert drawn["samples"] == lines[:20] and drawn["protocol"]["references"] == len(references)
    assert drawn["scores"]["bleu3"] == pytest.approx(text.bleu(lines, references, 3))
    language_model = (mle_run[0], sampling.load_sampler(run_dir).vocab)
    nll, skipped = text.sample_nll(language_model, [line for line in lines if line])
    assert drawn["scores"]["nll"] == pytest.approx(nll) and skipped == 0
    assert greedy["scores"]["nll"] < drawn["scores"]["nll"]  # the most likely line
    table = CliRunner().invoke(cli, [*command, "--temperature", "0,1"])
    assert table.output.splitlines()[0].split()[:3] == ["temperature", "bleu2", "bleu3"]
    assert [row.split()[0] for row in table.output.splitlines()[1:]] == ["0", "1"]
    bad = CliRunner().invoke(cli, [*command, "--temperature", "0,hot"])
    assert bad.exit_code == 2 and "'0,hot' is not temperatures >= 0" in bad.output
