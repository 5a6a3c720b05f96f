"""TF Serving's configuration files: protobuf messages in text format, read with errors
that name the file. Messages the tensorflow-serving-api package does not ship
(`BatchingParameters`, `SSLConfig`) are built here from their fields, numbered as in
TF Serving's .proto files."""

from __future__ import annotations

import os
from pathlib import Path

# Field kinds of `message_class`: a scalar type, or a google.protobuf wrapper message.
SCALARS = {"int64": "TYPE_INT64", "bool": "TYPE_BOOL", "string": "TYPE_STRING"}
WRAPPERS = {"Int64Value", "StringValue"}


def read(path: str | os.PathLike, message, what: str, example: str):
    """`message` filled from the text-format file at `path`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: unreadable, or not the message in text format (the parser's line
            and column, and `example`).
    """
    from google.protobuf import text_format

    where = f"{what} file {str(path)!r}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{where} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{where}: cannot read it ({e})") from None
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as e:
        raise ValueError(
            f"{where}: not a {message.DESCRIPTOR.name} in text format ({e}); expected e.g. "
            + example
        ) from None
    return message


def message_class(full_name: str, fields: list[tuple[int, str, str, bool]]):
    """A protobuf message class `full_name` (package.Name) with `fields` given as
    (number, name, kind, repeated); kind is a key of SCALARS or a name in WRAPPERS."""
    from google.protobuf import descriptor_pb2
    from google.protobuf import descriptor_pool
    from google.protobuf import message_factory
    from google.protobuf import wrappers_pb2

    package, _, name = full_name.rpartition(".")
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
    proto = descriptor_pb2.FileDescriptorProto(
        name=f"kgan/{name}.proto",
        package=package,
        dependency=["google/protobuf/wrappers.proto"],
        syntax="proto3",
    )
    message = proto.message_type.add(name=name)
    kinds = descriptor_pb2.FieldDescriptorProto
    for number, field_name, kind, repeated in fields:
        field = message.field.add(
            name=field_name,
            number=number,
            label=kinds.LABEL_REPEATED if repeated else kinds.LABEL_OPTIONAL,
        )
        if kind in WRAPPERS:
            field.type, field.type_name = kinds.TYPE_MESSAGE, f".google.protobuf.{kind}"
        else:
            field.type = getattr(kinds, SCALARS[kind])
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))
