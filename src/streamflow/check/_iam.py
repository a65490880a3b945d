"""Whether a template lets a function write to a table: its role's policies (inline, attached
``AWS::IAM::Policy`` and ``ManagedPolicy`` resources, AWS's full-access managed policies) or
SAM's ``Policies`` (statements and the ``DynamoDBCrudPolicy``/``DynamoDBWritePolicy``
templates).

A function that writes to the table whose stream invokes it can trigger itself; with filters
the router's ``assert_not_retriggered`` knowledge decides (``writes=``), without filters every
write comes back. A role this module cannot see (an ARN from outside the template) gives
``None``: not known.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from streamflow.check._deployment import Unknown
from streamflow.check._intrinsics import Attr, Ref, Resolver

__all__ = ["may_write"]

_WRITES = (
    "dynamodb:putitem",
    "dynamodb:updateitem",
    "dynamodb:deleteitem",
    "dynamodb:batchwriteitem",
    "dynamodb:partiqlinsert",
    "dynamodb:partiqlupdate",
    "dynamodb:partiqldelete",
)
_SAM_WRITE_TEMPLATES = ("DynamoDBCrudPolicy", "DynamoDBWritePolicy")
_FULL_ACCESS = ("AmazonDynamoDBFullAccess", "AdministratorAccess")


def may_write(resolver: Resolver, function_id: str, table_id: str) -> bool | None:
    """Whether the function's permissions allow writing items to the table.

    Returns:
        True or False, or None when the role is not in the template.
    """
    properties = resolver.properties(function_id)
    table_name = resolver.properties(table_id).get("TableName")
    target = _Target(table_id, table_name if isinstance(table_name, str) else None)
    if resolver.type_of(function_id) == "AWS::Serverless::Function" and "Role" not in properties:
        return _sam_policies(properties.get("Policies"), target)
    role = properties.get("Role")
    if not isinstance(role, Attr) or resolver.type_of(role.logical_id) != "AWS::IAM::Role":
        return None
    role_id = role.logical_id
    role_properties = resolver.properties(role_id)
    statements: list[Any] = []
    for policy in _listed(role_properties.get("Policies")):
        if isinstance(policy, dict) and isinstance(policy.get("PolicyDocument"), dict):
            statements.extend(_listed(policy["PolicyDocument"].get("Statement")))
    for arn in _listed(role_properties.get("ManagedPolicyArns")):
        if isinstance(arn, str) and arn.endswith(_FULL_ACCESS):
            return True
        if isinstance(arn, Ref):
            statements.extend(_document_statements(resolver.properties(arn.logical_id)))
    for logical_id in resolver.resources:
        if resolver.type_of(logical_id) in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            policy_properties = resolver.properties(logical_id)
            if Ref(role_id) in _listed(policy_properties.get("Roles")):
                statements.extend(_document_statements(policy_properties))
    return any(target.written_by(statement) for statement in statements)


class _Target:
    def __init__(self, table_id: str, table_name: str | None) -> None:
        self.table_id = table_id
        self.table_name = table_name

    def named_by(self, resource: Any) -> bool:
        if resource == "*" or resource == Attr(self.table_id, "Arn"):
            return True
        if resource == Ref(self.table_id) or (self.table_name and resource == self.table_name):
            return True
        if isinstance(resource, str) and self.table_name:
            arn = f"arn:aws:dynamodb:region:account:table/{self.table_name}"
            region_free = resource.split(":", 5)
            if len(region_free) == 6 and region_free[2] in ("dynamodb", "*"):
                return fnmatchcase(arn.split(":", 5)[5], region_free[5])
        return isinstance(resource, Unknown) and self.table_id in resource.reason

    def written_by(self, statement: Any) -> bool:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            return False
        actions = [a.lower() for a in _listed(statement.get("Action")) if isinstance(a, str)]
        if not any(fnmatchcase(write, action) for write in _WRITES for action in actions):
            return False
        return any(self.named_by(resource) for resource in _listed(statement.get("Resource")))


def _sam_policies(policies: Any, target: _Target) -> bool:
    statements: list[Any] = []
    for policy in _listed(policies):
        if isinstance(policy, str) and policy.endswith(_FULL_ACCESS):
            return True
        if not isinstance(policy, dict):
            continue
        statements.extend(_listed(policy.get("Statement")))
        for name in _SAM_WRITE_TEMPLATES:
            parameters = policy.get(name)
            if isinstance(parameters, dict) and target.named_by(parameters.get("TableName")):
                return True
    return any(target.written_by(statement) for statement in statements)


def _document_statements(properties: dict[str, Any]) -> list[Any]:
    document = properties.get("PolicyDocument")
    return _listed(document.get("Statement")) if isinstance(document, dict) else []


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
