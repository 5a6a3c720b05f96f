"""`--strategy multi-worker`: real worker processes on localhost, TF_CONFIG, collectives."""

import csv
import json
import os
import random
import signal
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import training
from keras_gan.config import ConfigError
from keras_gan.config import RunConfig

SETTINGS = [
    "model=dcgan",
    "data.spec=synthetic:16x16x3",
    "data.channels=3",
    "data.image_size=16",
    "model_kwargs.latent_dim=8",
    "model_kwargs.filters=4",
    "train.batch_size=8",
    "train.log_every=1",
    "train.sample_every=2",
    "train.checkpoint_every=2",
    "train.sample_seeds=1",
]


def free_ports(count):
    """Ports free now and below the kernel's ephemeral range: no other process's
    `bind(0)` or outgoing connection can take them before the workers bind them (a
    port from `bind(0)`, freed for the worker, could be handed out again meanwhile)."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral_start = int(f.read().split()[0])
    rng = random.Random(os.getpid())
    ports = []
    while len(ports) < count:
        port = rng.randrange(10000, ephemeral_start)
        with socket.socket() as s:
            try:
                s.bind(("localhost", port))
            except OSError:
                continue  # in use: another
        if port not in ports:
            ports.append(port)
    return ports


def start_workers(run_dir, cwd, *extra):
    """Two `kgan fit --strategy multi-worker` processes, one TF_CONFIG index each."""
    hosts = [f"localhost:{port}" for port in free_ports(2)]
    scratch = cwd / "scratch"  # where the non-chief worker's outputs go (and must vanish)
    scratch.mkdir(exist_ok=True)
    sets = [arg for setting in SETTINGS for arg in ("--set", setting)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "PYTHONUNBUFFERED": "1"}
        env["TMPDIR"] = str(scratch)
        command = [sys.executable, "-m", "keras_gan_cli.main", "fit", "--strategy"]
        command += ["multi-worker", "--run-dir", str(run_dir), *sets, *extra]
        processes.append(
            subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
        )
    return processes


def finish(processes, timeout=300):
    """(exit codes, stderr texts) of the workers."""
    outputs = [p.communicate(timeout=timeout)[1] for p in processes]
    return [p.returncode for p in processes], outputs


def fingerprint(stderr):
    lines = [line for line in stderr.splitlines() if "weights fingerprint" in line]
    assert lines, stderr[-2000:]
    return lines[-1].rsplit(" ", 1)[1]


def test_workers_stop_together_resume_together_and_match_one_process(tmp_path):
    run_dir = tmp_path / "run"
    workers = start_workers(run_dir, tmp_path, "--steps", "100000")
    for line in workers[1].stderr:  # the non-chief worker reaches step 3 ...
        if line.startswith("step 3/"):
            break
    workers[1].send_signal(signal.SIGTERM)  # ... and is stopped: the chief stops with it
    codes, outputs = finish(workers)
    assert codes == [128 + signal.SIGTERM] * 2, outputs[0][-2000:]
    stopped_at = int(tf.train.latest_checkpoint(str(run_dir / "checkpoints")).rsplit("-", 1)[1])
    assert stopped_at >= 3
    assert all(f"at step {stopped_at};" in out for out in outputs), outputs[0][-1000:]

    resumed = start_workers(run_dir, tmp_path, "--resume", "--steps", str(stopped_at + 2))
    codes, outputs = finish(resumed)
    assert codes == [0, 0], outputs[0][-2000:]
    assert all(f"resumed {run_dir} from ckpt-{stopped_at} " in out for out in outputs)
    assert fingerprint(outputs[0]) == fingerprint(outputs[1])  # bit-identical workers

    config = RunConfig().override([*SETTINGS, f"train.steps={stopped_at + 2}"])
    single, _ = training.fit(config, run_dir=tmp_path / "single", log=lambda line: None)
    chief = keras.saving.load_model(run_dir / "model.keras")
    for network in ("generator", "discriminator"):
        for ours, theirs in zip(
            getattr(chief, network).get_weights(), getattr(single, network).get_weights()
        ):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    worker_log, single_log = (
        list(csv.reader((folder / "log.csv").read_text().splitlines()))
        for folder in (run_dir, tmp_path / "single")
    )
    assert worker_log[0] == single_log[0]  # same columns, same order
    measured = [i for i, name in enumerate(worker_log[0]) if name != "images_per_sec"]
    for ours, theirs in zip(worker_log[1:], single_log[1:]):  # same losses (not the speed)
        np.testing.assert_allclose(
            [float(ours[i] or "nan") for i in measured],
            [float(theirs[i] or "nan") for i in measured],
            atol=2e-5,
        )
    assert not list((tmp_path / "scratch").iterdir())


def test_multi_worker_needs_a_tf_config(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    config = RunConfig().override([*SETTINGS, "train.strategy=multi-worker"])
    with pytest.raises(ConfigError, match="multi-worker needs TF_CONFIG"):
        training.fit(config, run_dir=tmp_path / "run", log=lambda line: None)
    with pytest.raises(ConfigError, match="multi-worker needs --run-dir"):
        training.fit(config, log=lambda line: None)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "tf_config, message",
    [
        ("{not json", "TF_CONFIG must be JSON"),
        ('{"cluster": {"worker": ["a:1"]}}', "TF_CONFIG must be JSON.*KeyError: 'task'"),
        (
            '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
            r"task.index 2 is outside cluster.worker \(2 members\)",
        ),
    ],
)
def test_bad_tf_config_is_named(tmp_path, monkeypatch, tf_config, message):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    config = RunConfig().override([*SETTINGS, "train.strategy=multi-worker"])
    with pytest.raises(ConfigError, match=message):
        training.fit(config, run_dir=tmp_path / "run", log=lambda line: None)


def test_the_kubernetes_job_in_deploy_names_its_workers_and_runs_a_valid_command(tmp_path):
    """deploy/multi-worker-job.yaml: the Service, the Indexed Job and the TF_CONFIG its
    pods export agree, and the command it runs is one `kgan fit` accepts."""
    import yaml

    path = os.path.join(os.path.dirname(__file__), "..", "deploy", "multi-worker-job.yaml")
    with open(path) as f:
        service, job = yaml.safe_load_all(f)
    assert service["kind"] == "Service" and service["spec"]["clusterIP"] == "None"
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    workers = job["spec"]["completions"]
    assert job["spec"]["parallelism"] == workers  # lockstep: all at once
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    port = container["ports"][0]["containerPort"]
    assert service["spec"]["ports"][0]["port"] == port
    assert pod["subdomain"] == service["metadata"]["name"]
    assert service["spec"]["selector"] == {"job-name": job["metadata"]["name"]}
    script = container["args"][0].strip()  # a folded YAML scalar ends with a newline
    for index in range(workers):
        # The pod's own shell exports TF_CONFIG; then `kgan fit` resolves the command.
        shown = script.replace("kgan fit", 'echo "$TF_CONFIG" && kgan fit') + " --dry-run"
        env = {
            **os.environ,
            "JOB_COMPLETION_INDEX": str(index),
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
        }
        done = subprocess.run(
            ["/bin/sh", "-c", shown], capture_output=True, text=True, env=env, cwd=tmp_path,
            timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        tf_config = json.loads(done.stdout.splitlines()[0])
        name = f"{job['metadata']['name']}-{{}}.{service['metadata']['name']}:{port}"
        assert tf_config == {
            "cluster": {"worker": [name.format(i) for i in range(workers)]},
            "task": {"type": "worker", "index": index},
        }
        resolved = json.loads(done.stdout.split("\n", 1)[1])
        assert resolved["config"]["train"]["strategy"] == "multi-worker"
