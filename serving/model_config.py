"""TF Serving's `--model_config_file`: a `ModelServerConfig` in protobuf text format,
read into the models a `ModelRepository` serves.

    model_config_list {
      config { name: "glyphs" base_path: "/models/glyphs" model_platform: "tensorflow" }
      config {
        name: "fonts" base_path: "/models/fonts"
        model_version_policy { specific { versions: 1 versions: 3 } }
      }
    }

Relative base paths are taken from the working directory, as TF Serving does. Not
supported (an error, since requests would silently differ): `custom_model_config`,
platforms other than tensorflow, `version_labels`. `logging_config` is ignored.
"""

from __future__ import annotations

import logging
from pathlib import Path

from keras_gan_serving import textproto
from keras_gan_serving.repository import ModelSource
from keras_gan_serving.repository import check_model_name
from keras_gan_serving.tensors import RequestError

log = logging.getLogger("keras_gan_serving")


def read(path: str | Path) -> dict[str, ModelSource]:
    """{model name: its folder and version policy} from a model config file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a ModelServerConfig, or asks for what this server lacks; the
            message names the file (and the line, for syntax errors).
    """
    from tensorflow_serving.config import model_server_config_pb2

    where = f"model config file {str(path)!r}"
    config = textproto.read(
        path,
        model_server_config_pb2.ModelServerConfig(),
        "model config",
        'model_config_list { config { name: "NAME" base_path: "PATH" } }',
    )
    if config.HasField("custom_model_config"):
        raise ValueError(f"{where}: custom_model_config is not supported; use model_config_list")
    sources: dict[str, ModelSource] = {}
    for entry in config.model_config_list.config:
        model = f"{where}, model {entry.name!r}"
        try:
            check_model_name(entry.name)
        except RequestError as e:
            raise ValueError(f"{model}: {e.message}") from None
        if entry.name in sources:
            raise ValueError(f"{model}: named twice")
        if not entry.base_path:
            raise ValueError(f"{model}: base_path is required")
        if entry.model_platform not in ("", "tensorflow"):
            raise ValueError(
                f"{model}: model_platform {entry.model_platform!r} is not supported "
                "(kgan serve serves tensorflow SavedModels)"
            )
        if entry.version_labels:
            raise ValueError(
                f"{model}: version_labels are not supported; requests name version numbers"
            )
        if entry.HasField("logging_config"):
            log.warning("%s: logging_config is ignored", model)
        policy = entry.model_version_policy
        kind = policy.WhichOneof("policy_choice")
        if kind == "specific" and not policy.specific.versions:
            raise ValueError(f"{model}: model_version_policy specific lists no versions")
        folder = Path(entry.base_path)
        if not folder.is_dir():  # TF Serving waits for it; say so at once
            log.warning("%s: base_path %s is not a folder (yet)", model, folder)
        sources[entry.name] = ModelSource(
            folder,
            latest=0 if kind == "all" else (policy.latest.num_versions or 1),
            specific=frozenset(policy.specific.versions) if kind == "specific" else frozenset(),
        )
    if not sources:
        raise ValueError(f"{where} lists no model (model_config_list {{ config {{ ... }} }})")
    return sources
