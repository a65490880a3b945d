"""CloudFormation's intrinsic functions, resolved as far as the template alone allows.

``Ref`` to a parameter takes its ``--parameter`` value or its ``Default``; ``Ref`` to a
resource and ``Fn::GetAtt`` become :class:`Ref` and :class:`Attr` markers (the checks follow
them to the table, the function, the role); ``Fn::Sub``, ``Fn::Join``, ``Fn::Select``,
``Fn::Split``, ``Fn::If`` (with ``Conditions``), ``Fn::FindInMap`` and ``Fn::ToJsonString``
are computed when their inputs are known. Everything else (``Fn::ImportValue``,
``AWS::Region``, a parameter without a value...) becomes
:class:`~streamflow.check._deployment.Unknown`, saying what it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from streamflow._value import Value
from streamflow.check._deployment import Unknown

__all__ = ["NO_VALUE", "Attr", "Ref", "Resolver", "is_intrinsic"]


class Ref(Value):
    """``Ref`` to a resource of the template: its physical id, not known before deployment."""

    __slots__ = ("logical_id",)
    logical_id: str


class Attr(Value):
    """``Fn::GetAtt`` on a resource of the template (``Table.StreamArn``)."""

    __slots__ = ("attribute", "logical_id")
    _order = ("logical_id", "attribute")
    logical_id: str
    attribute: str


NO_VALUE = Unknown("AWS::NoValue")
"""``Ref: AWS::NoValue``: the property is left out."""

_PSEUDO = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def is_intrinsic(node: object) -> bool:
    """A one-key object ``{"Ref": ...}`` or ``{"Fn::...": ...}``."""
    if not isinstance(node, Mapping) or len(node) != 1:
        return False
    [key] = node
    return key == "Ref" or (isinstance(key, str) and key.startswith("Fn::"))


def _shown(node: object) -> str:
    text = json.dumps(node, default=str, separators=(",", ":"))
    return text if len(text) <= 120 else text[:117] + "..."


class Resolver:
    """Resolve the values of one template.

    Args:
        template: the parsed template (YAML tags already turned into ``Fn::`` objects).
        parameters: values for its ``Parameters``, as ``--parameter Name=Value`` gives them.
    """

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        self.template = template
        resources = template.get("Resources")
        self.resources: Mapping[str, Any] = resources if isinstance(resources, Mapping) else {}
        self._parameters = _mapping(template.get("Parameters"))
        self._overrides = parameters
        self._mappings = _mapping(template.get("Mappings"))
        self._conditions = _mapping(template.get("Conditions"))
        self._evaluating: set[str] = set()

    # --- resources ---------------------------------------------------------------------------

    def resource(self, logical_id: str) -> Mapping[str, Any] | None:
        """A resource by logical id, unless its ``Condition`` is known to be false."""
        found = self.resources.get(logical_id)
        if not isinstance(found, Mapping) or self.excluded(found):
            return None
        return found

    def type_of(self, logical_id: str) -> str | None:
        found = self.resource(logical_id)
        kind = found.get("Type") if found is not None else None
        return kind if isinstance(kind, str) else None

    def properties(self, logical_id: str) -> dict[str, Any]:
        """A resource's ``Properties``, resolved (an empty dict if it has none)."""
        found = self.resource(logical_id)
        value = self.value(found.get("Properties", {})) if found is not None else {}
        return value if isinstance(value, dict) else {}

    def excluded(self, resource: Mapping[str, Any]) -> bool:
        """Whether the resource's ``Condition`` is known to be false."""
        name = resource.get("Condition")
        return isinstance(name, str) and self.condition(name) is False

    # --- values ------------------------------------------------------------------------------

    def value(self, node: Any) -> Any:
        """``node`` with every intrinsic resolved, or replaced by a marker or Unknown."""
        if isinstance(node, Mapping):
            if is_intrinsic(node):
                [(name, argument)] = node.items()
                return self._intrinsic(name, argument)
            resolved = {key: self.value(item) for key, item in node.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(node, list):
            items = [self.value(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        return node

    def _intrinsic(self, name: str, argument: Any) -> Any:
        handler = getattr(self, "_fn_" + name.removeprefix("Fn::").lower(), None)
        if name == "Ref":
            return self._ref(argument)
        if handler is None:
            return Unknown(f"{name} {_shown(argument)} is not known before deployment")
        try:
            result: Any = handler(argument)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            return Unknown(f"{name} {_shown(argument)} cannot be resolved")
        return result

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return Unknown(f"Ref {_shown(name)} is not a name")
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in _PSEUDO:
            return _PSEUDO[name]
        if name in self._parameters:
            if name in self._overrides:
                return self._overrides[name]
            declared = self._parameters[name]
            if isinstance(declared, Mapping) and "Default" in declared:
                return self.value(declared["Default"])
            return Unknown(f"parameter {name} has no Default (pass --parameter {name}=VALUE)")
        if name in self.resources:
            return Ref(name)
        return Unknown(f"Ref {name} is not known before deployment")

    def _fn_getatt(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        logical_id, attribute = (self.value(part) for part in argument)
        if isinstance(logical_id, str) and logical_id in self.resources:
            return Attr(logical_id, str(attribute))
        return Unknown(f"Fn::GetAtt {_shown(argument)} names no resource of the template")

    def _fn_sub(self, argument: Any) -> Any:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {key: self.value(item) for key, item in dict(variables).items()}
        parts: list[Any] = []
        position = 0
        for match in _SUB_VARIABLE.finditer(text):
            parts.append(text[position : match.start()])
            position = match.end()
            name = match.group(1)
            if name.startswith("!"):
                parts.append("${" + name[1:] + "}")
            elif name in variables:
                parts.append(variables[name])
            elif "." in name and name.split(".", 1)[0] in self.resources:
                parts.append(Attr(*name.split(".", 1)))
            else:
                parts.append(self._ref(name))
        parts.append(text[position:])
        parts = [part for part in parts if part != ""]
        if len(parts) == 1 and isinstance(parts[0], (Ref, Attr)):
            return parts[0]
        if all(isinstance(part, str) for part in parts):
            return "".join(parts)
        return Unknown(f"Fn::Sub {_shown(argument)} is not known before deployment")

    def _fn_join(self, argument: Any) -> Any:
        delimiter, items = argument
        items = self.value(items)
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            return str(delimiter).join(items)
        return Unknown(f"Fn::Join {_shown(argument)} is not known before deployment")

    def _fn_select(self, argument: Any) -> Any:
        index, items = (self.value(part) for part in argument)
        if isinstance(items, list) and not isinstance(index, Unknown):
            return items[int(index)]
        return Unknown(f"Fn::Select {_shown(argument)} is not known before deployment")

    def _fn_split(self, argument: Any) -> Any:
        delimiter, text = (self.value(part) for part in argument)
        if isinstance(text, str) and isinstance(delimiter, str):
            return text.split(delimiter)
        return Unknown(f"Fn::Split {_shown(argument)} is not known before deployment")

    def _fn_if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        verdict = self.condition(name)
        if verdict is None:
            return Unknown(f"condition {name} is not known before deployment")
        return self.value(when_true if verdict else when_false)

    def _fn_findinmap(self, argument: Any) -> Any:
        name, top, second = (self.value(part) for part in argument[:3])
        return self.value(self._mappings[name][top][second])

    def _fn_tojsonstring(self, argument: Any) -> Any:
        resolved = self.value(argument)
        if _has_unknown(resolved):
            return Unknown(f"Fn::ToJsonString {_shown(argument)} is not known before deployment")
        return json.dumps(resolved, separators=(",", ":"))

    # --- conditions --------------------------------------------------------------------------

    def condition(self, name: Any) -> bool | None:
        """A named condition's value, or ``None`` when the template cannot tell."""
        if not isinstance(name, str) or name not in self._conditions or name in self._evaluating:
            return None
        self._evaluating.add(name)
        try:
            return self._test(self._conditions[name])
        finally:
            self._evaluating.discard(name)

    def _test(self, node: Any) -> bool | None:
        if isinstance(node, bool):
            return node
        if not isinstance(node, Mapping) or len(node) != 1:
            return None
        [(name, argument)] = node.items()
        if name == "Condition":
            return self.condition(argument)
        if not isinstance(argument, list):
            return None
        if name == "Fn::Equals" and len(argument) == 2:
            left, right = (self.value(part) for part in argument)
            if _has_unknown(left) or _has_unknown(right):
                return None
            return bool(str(left) == str(right))
        verdicts = [self._test(part) for part in argument]
        if name == "Fn::Not" and len(verdicts) == 1:
            return None if verdicts[0] is None else not verdicts[0]
        if name == "Fn::And":
            return False if False in verdicts else (None if None in verdicts else True)
        if name == "Fn::Or":
            return True if True in verdicts else (None if None in verdicts else False)
        return None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _has_unknown(value: Any) -> bool:
    if isinstance(value, (Unknown, Ref, Attr)):
        return True
    if isinstance(value, Mapping):
        return any(_has_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_unknown(item) for item in value)
    return False
