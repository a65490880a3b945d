"""Reading templates: CloudFormation or SAM in JSON or YAML (with the short intrinsic tags
``!Ref``, ``!GetAtt``, ``!Sub``...), or a CDK cloud assembly (``cdk.out``, every
``*.template.json`` in it).

YAML needs PyYAML, an optional extra (``pip install 'streamflow-dynamodb[yaml]'``): it is
never a dependency of the Lambda package. JSON needs nothing.
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Mapping
from typing import Any

from streamflow.errors import CheckError

__all__ = ["YAML_EXTRA", "Template", "read_templates"]

YAML_EXTRA = "pip install 'streamflow-dynamodb[yaml]'"

Template = tuple[str, Mapping[str, Any]]
"""A stack's name (or the file it came from) and its parsed template."""


def read_templates(source: str | os.PathLike[str] | Mapping[str, Any]) -> list[Template]:
    """The templates ``source`` holds: a parsed template, a template file, or a ``cdk.out``
    directory (one template per stack).

    Raises:
        CheckError: (option ``template``) the file cannot be read or parsed, is not a
            template, or is YAML while PyYAML is not installed.
    """
    if isinstance(source, Mapping):
        return [("<template>", _checked(source, "the template"))]
    path = pathlib.Path(source)
    if path.is_dir():
        files = sorted(
            found
            for found in path.rglob("*.template.json")
            if not any(part.startswith("asset.") for part in found.relative_to(path).parts)
        )
        if not files:
            raise CheckError(
                "template", f"{path} holds no *.template.json (is it a cdk.out directory?)"
            )
        return [(_stack_name(found), _parse(found)) for found in files]
    return [(str(path), _parse(path))]


def _stack_name(path: pathlib.Path) -> str:
    return path.name.removesuffix(".template.json")


def _parse(path: pathlib.Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CheckError("template", f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CheckError("template", f"{path} is not UTF-8 text: {exc}") from None
    if text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise CheckError("template", f"{path} is not valid JSON: {exc}") from None
        except RecursionError:
            raise CheckError("template", f"{path} nests too deeply to be read") from None
    else:
        parsed = _load_yaml(text, path)
    return _checked(parsed, str(path))


def _checked(parsed: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(parsed, Mapping) or not isinstance(parsed.get("Resources"), Mapping):
        raise CheckError(
            "template", f"{what} is not a CloudFormation template (it has no Resources section)"
        )
    return parsed


def _load_yaml(text: str, path: pathlib.Path) -> Any:
    try:
        import yaml
    except ImportError:
        raise CheckError(
            "template",
            f"{path} is YAML, and reading YAML needs PyYAML: {YAML_EXTRA} (or give the "
            "template as JSON)",
        ) from None

    class Loader(yaml.SafeLoader):
        """YAML with CloudFormation's short intrinsic tags."""

    def intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if suffix == "Ref" or suffix == "Condition":
            return {suffix: value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {"Fn::" + suffix: value}

    Loader.add_multi_constructor("!", intrinsic)
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CheckError(
            "template", f"{path} is neither JSON nor valid YAML: {problem}{where}"
        ) from None
    except RecursionError:
        raise CheckError("template", f"{path} nests too deeply to be read") from None
