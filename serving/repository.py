"""The models a server holds: `base_path/NAME/VERSION/` SavedModels, reloaded as they change.

Like TF Serving's file-system source with the "latest N versions" policy and
availability-preserving transitions: a new version is loaded while the old one keeps
answering, and only once it is AVAILABLE is the old one unloaded. A version that fails
to load is reported (GetModelStatus) and the last good one stays in service.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from keras_gan.export.layout import KGAN_METADATA
from keras_gan_serving.batching import Batcher
from keras_gan_serving.batching import BatchingParameters
from keras_gan_serving.tensors import InputSpec
from keras_gan_serving.tensors import RequestError
from keras_gan_serving.tensors import invalid

log = logging.getLogger("keras_gan_serving")

DEFAULT_SIGNATURE = "serving_default"


class Servable:
    """One loaded SavedModel version: its signatures, SignatureDefs and kgan metadata."""

    def __init__(
        self, name: str, version: int, path: Path, batching: BatchingParameters | None = None
    ):
        self.name, self.version, self.batching = name, version, batching
        self._batchers: dict[str, Batcher] = {}
        self._lock = threading.Lock()
        meta_graph = saved_model_pb2.SavedModel.FromString(
            (path / "saved_model.pb").read_bytes()
        ).meta_graphs
        serve = [m for m in meta_graph if "serve" in m.meta_info_def.tags]
        if not serve:
            raise ValueError("the SavedModel has no 'serve' tag")
        self.signature_defs = {
            key: sig for key, sig in serve[0].signature_def.items() if not key.startswith("__")
        }
        self.input_specs = {
            key: {name: InputSpec(name, info) for name, info in sig.inputs.items()}
            for key, sig in self.signature_defs.items()
        }
        metadata_file = path / KGAN_METADATA
        self.metadata = (
            json.loads(metadata_file.read_text(encoding="utf-8"))
            if metadata_file.is_file()
            else None
        )
        self.num_classes = (self.metadata or {}).get("num_classes") or 0
        # Inputs that are not one row per output (e.g. the glyphs a style is read from).
        self.unbatched = set((self.metadata or {}).get("unbatched_inputs") or ())
        self._loaded = tf.saved_model.load(str(path), tags=["serve"])
        self.signatures = self._loaded.signatures

    def signature_def_map(self):
        """The SignatureDefMap GetModelMetadata answers (as TF Serving does)."""
        from tensorflow_serving.apis import get_model_metadata_pb2

        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, signature_def in self.signature_defs.items():
            signature_map.signature_def[key].CopyFrom(signature_def)
        return signature_map

    def predict(
        self,
        signature_name: str,
        inputs: dict,
        decode,
        output_filter: list[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Runs a signature on `inputs` (name -> raw value, decoded by `decode(raw, spec)`).

        Checks names, dtypes, shapes, batch sizes, finiteness and label ids first.
        """
        signature_name = signature_name or DEFAULT_SIGNATURE
        specs = self.input_specs.get(signature_name)
        if specs is None:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"model {self.name!r} version {self.version} has no signature "
                f"{signature_name!r}; it has {', '.join(sorted(self.input_specs))}",
            )
        extra = sorted(set(inputs) - set(specs))
        missing = sorted(set(specs) - set(inputs))
        if extra or missing:
            takes = ", ".join(f"{k}: {s.describe()}" for k, s in sorted(specs.items()))
            problem = (
                f"unknown input(s) {', '.join(extra)}"
                if extra
                else f"missing input(s) {', '.join(missing)}"
            )
            raise invalid(f"{problem}; signature {signature_name!r} takes {takes}")
        arrays = {name: decode(inputs[name], spec) for name, spec in specs.items()}
        batched = {k: a for k, a in arrays.items() if a.ndim and k not in self.unbatched}
        batch_sizes = {a.shape[0] for a in batched.values()}
        if len(batch_sizes) > 1:
            raise invalid(
                "inputs have different batch sizes: "
                + ", ".join(f"{k}={a.shape[0]}" for k, a in batched.items())
            )
        for name, array in arrays.items():
            if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
                raise invalid(f"input {name!r} holds NaN or infinite values")
        if "labels" in arrays and self.num_classes and arrays["labels"].size:
            labels = arrays["labels"]
            if labels.min() < 0 or labels.max() >= self.num_classes:
                raise invalid(
                    f"input 'labels' holds ids outside 0..{self.num_classes - 1} "
                    f"(the model knows {self.num_classes} labels)"
                )
        outputs = dict(self.signature_defs[signature_name].outputs)
        wanted = list(output_filter or outputs)
        unknown = [k for k in wanted if k not in outputs]
        if unknown:
            raise invalid(
                f"output_filter names unknown output(s) {', '.join(unknown)}; "
                f"the signature has {', '.join(sorted(outputs))}"
            )
        results = self._runner(signature_name)(arrays)
        return {k: results[k] for k in wanted}

    def _run(self, signature_name: str, arrays: dict) -> dict[str, np.ndarray]:
        try:
            results = self.signatures[signature_name](
                **{k: tf.constant(v) for k, v in arrays.items()}
            )
        except tf.errors.InvalidArgumentError as e:
            raise invalid(graph_error(e.message)) from None
        return {k: v.numpy() for k, v in results.items()}

    def _runner(self, signature_name: str):
        """The signature as a call on arrays: through its `Batcher` when batching."""
        run = functools.partial(self._run, signature_name)
        if self.batching is None:
            return run
        with self._lock:
            if signature_name not in self._batchers:
                batched = set(self.input_specs[signature_name]) - self.unbatched
                self._batchers[signature_name] = Batcher(run, batched, self.batching)
            return self._batchers[signature_name]

    def close(self) -> None:
        """Stops the batch threads once what they hold is done."""
        with self._lock:
            for batcher in self._batchers.values():
                batcher.close()


def graph_error(message: str) -> str:
    """The sentence of a signature's failed check (`tf.debugging.assert_*`'s message),
    else the error's first line; never the graph's stack."""
    for line in message.splitlines():
        if line.startswith("assertion failed: ["):
            return line[len("assertion failed: [") :].split("]")[0].strip().rstrip(".")
    return message.splitlines()[0]


@dataclass
class VersionState:
    """What GetModelStatus reports for one version."""

    state: str  # LOADING, AVAILABLE, END (as in ModelVersionStatus.State)
    error: str = ""
    mtime: float = 0.0


@dataclass(frozen=True)
class ModelSource:
    """One served model's folder of versions and which of them to serve (TF Serving's
    ServableVersionPolicy): the newest `latest` loadable ones (0: all), or exactly the
    versions in `specific` when it is not empty."""

    folder: Path
    latest: int = 1
    specific: frozenset = frozenset()


class ModelRepository:
    """Holds the wanted loadable versions of each model, reloaded as folders change.

    `base_path` holds one folder per model (`saved_models/`), or is itself one model's
    folder (`saved_models/glyphs`), served under the folder's name, or under
    `model_name` (TF Serving's `--model_name`: then `base_path` is that model's folder
    even before its first version appears); each keeps its newest `num_versions`.
    `sources` (from TF Serving's `--model_config_file`, `model_config.read`) names
    every model, its folder and version policy instead. `batching`: concurrent
    requests run together (`batching.Batcher`).
    """

    def __init__(
        self,
        base_path=None,
        num_versions: int = 1,
        poll_seconds: float = 1.0,
        model_name: str | None = None,
        sources: dict[str, ModelSource] | None = None,
        batching: BatchingParameters | None = None,
    ):
        if model_name is not None:
            check_model_name(model_name)
        self.model_name, self.sources, self.batching = model_name, sources, batching
        self.base_path = None if base_path is None else Path(base_path)
        if sources is None and (self.base_path is None or not self.base_path.is_dir()):
            raise FileNotFoundError(f"model base path {str(base_path)!r} is not a folder")
        if num_versions < 0:
            raise ValueError(f"num_versions must be 0 (all) or more, got {num_versions}")
        self.num_versions, self.poll_seconds = num_versions, poll_seconds
        self._servables: dict[str, dict[int, Servable]] = {}
        self._states: dict[str, dict[int, VersionState]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- discovery and loading

    def _model_sources(self) -> dict[str, ModelSource]:
        if self.sources is not None:
            return self.sources
        if self.model_name is not None:
            folders = {self.model_name: self.base_path}
        elif _versions_in(self.base_path):
            folders = {self.base_path.name: self.base_path}
        else:
            folders = {
                p.name: p
                for p in sorted(self.base_path.iterdir())
                if p.is_dir() and not p.name.startswith(".") and _inside(p, self.base_path)
            }
        return {name: ModelSource(folder, self.num_versions) for name, folder in folders.items()}

    def refresh(self) -> None:
        """One poll: load new versions, then retire the ones no longer wanted."""
        sources = self._model_sources()
        for name, source in sources.items():
            self._refresh_model(name, source)
        for name in set(self._servables) - set(sources):
            self._retire(name, keep=set())

    def _refresh_model(self, name: str, source: ModelSource) -> None:
        """Newest first, keeps the versions `source` asks for that load; skips broken ones."""
        states = self._states.setdefault(name, {})
        on_disk = {
            v: p for v, p in _versions_in(source.folder).items() if _inside(p, source.folder)
        }
        keep: set[int] = set()
        for version in sorted(on_disk, reverse=True):
            if source.specific and version not in source.specific:
                continue
            if not source.specific and source.latest and len(keep) >= source.latest:
                break
            if version in self._servables.get(name, {}):
                keep.add(version)
                continue
            mtime = (on_disk[version] / "saved_model.pb").stat().st_mtime
            previous = states.get(version)
            if previous and previous.error and previous.mtime == mtime:
                continue  # failed before and unchanged since: do not retry every poll
            states[version] = VersionState("LOADING", mtime=mtime)
            try:
                servable = Servable(name, version, on_disk[version], self.batching)
            except Exception as e:  # noqa: BLE001  (a broken SavedModel must not stop serving)
                log.warning("model %s version %d failed to load: %s", name, version, e)
                states[version] = VersionState(
                    "END",
                    error=f"version {version} failed to load ({type(e).__name__})",
                    mtime=mtime,
                )
                continue
            with self._lock:
                self._servables.setdefault(name, {})[version] = servable
            states[version] = VersionState("AVAILABLE", mtime=mtime)
            keep.add(version)
            log.info("serving model %s version %d", name, version)
        self._retire(name, keep)

    def _retire(self, name: str, keep: set[int]) -> None:
        with self._lock:
            servables = self._servables.get(name, {})
            for version in set(servables) - keep:
                servables.pop(version).close()
                self._states[name][version] = VersionState("END")
                log.info("unloaded model %s version %d", name, version)
            if not servables:
                self._servables.pop(name, None)

    def start(self) -> None:
        """Loads what is there now, then polls in a background thread."""
        self.refresh()
        self._thread = threading.Thread(target=self._poll, name="model-poller", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001  (a poll must never kill the server)
                log.exception("model poll failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            for servables in self._servables.values():
                for servable in servables.values():
                    servable.close()

    # -- lookup

    def models(self) -> list[str]:
        with self._lock:
            return sorted(self._servables)

    def get(self, name: str, version: int | None = None) -> Servable:
        """The servable for `name` (newest version, or `version`), else NOT_FOUND."""
        check_model_name(name)
        with self._lock:
            versions = dict(self._servables.get(name, {}))
        if not versions:
            served = ", ".join(self.models()) or "none"
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"model {name!r} is not served (served models: {served})",
            )
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND,
                f"model {name!r} has no available version {version} "
                f"(available: {', '.join(map(str, sorted(versions)))})",
            )
        return versions[version]

    def status(self, name: str, version: int | None = None) -> dict[int, VersionState]:
        """Version -> state, for GetModelStatus; NOT_FOUND for unknown models/versions."""
        check_model_name(name)
        states = dict(self._states.get(name, {}))
        if not states:
            raise RequestError(grpc.StatusCode.NOT_FOUND, f"model {name!r} is not served")
        if version is not None:
            if version not in states:
                raise RequestError(
                    grpc.StatusCode.NOT_FOUND, f"model {name!r} has no version {version}"
                )
            return {version: states[version]}
        return states


def check_model_name(name: str) -> None:
    """A model name is one plain folder name: no path components, never a path."""
    if not name:
        raise invalid("model_spec.name is required")
    if name in (".", "..") or any(c in name for c in "/\\\0") or len(name) > 255:
        raise invalid("model name must be a plain folder name (no path components)")


def _inside(path: Path, root: Path) -> bool:
    """Only a model root's tree is read: a link out of it is ignored (and logged)."""
    inside = path.resolve().is_relative_to(root.resolve())
    if not inside:
        log.warning("ignoring %s: it leads out of %s", path.name, root)
    return inside


def _versions_in(folder: Path) -> dict[int, Path]:
    """Complete version folders (atomic renames: a present saved_model.pb means complete)."""
    try:
        children = list(folder.iterdir())
    except OSError:
        return {}
    return {
        int(p.name): p
        for p in children
        if p.name.isdigit() and int(p.name) > 0 and (p / "saved_model.pb").is_file()
    }
