"""Single-table keys: :class:`KeyTemplate` formats and parses keys such as
``USER#{user_id}#SCORE#{score_id}``."""

from __future__ import annotations

import dataclasses

from streamflow.errors import KeyTemplateError
from streamflow.models._convert import show

__all__ = ["KeyTemplate"]

_KEY_BITS = 256  # an int key part of 78+ digits (no DynamoDB key holds one)


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class KeyTemplate:
    """A single-table key pattern such as ``USER#{user_id}#SCORE#{score_id}``.

    Text outside braces is literal (``{{`` and ``}}`` stand for braces); each ``{name}`` is a
    placeholder. Parsing is unambiguous: a placeholder takes the text up to the first
    occurrence of the literal after it, and the last one takes the rest (up to any trailing
    literal). So values must be non-empty, and a value other than the last must not contain
    the literal that follows it, not even overlapping its end: with ``{a}##{b}``, ``a`` may
    not contain ``##`` nor end in ``#``. :meth:`format` refuses such values and :meth:`parse`
    refuses keys that need them, so ``parse(format(**values)) == values`` always holds.
    A template with no placeholder (``PROFILE``) matches only itself.

    Args:
        template: the pattern text.

    Raises:
        KeyTemplateError: the template is empty, has an unbalanced brace, a placeholder name
            that is not an identifier, a name used twice, or two placeholders with no literal
            text between them (the key could not be split).
        TypeError: ``template`` is not a string.

    >>> key = KeyTemplate("USER#{user_id}#SCORE#{score_id}")
    >>> key.format(user_id="u1", score_id=42)
    'USER#u1#SCORE#42'
    >>> key.parse("USER#u1#SCORE#42")
    {'user_id': 'u1', 'score_id': '42'}
    >>> key.prefix, key.fields
    ('USER#', ('user_id', 'score_id'))
    """

    template: str
    fields: tuple[str, ...] = dataclasses.field(init=False, compare=False)
    """The placeholder names, in order."""
    prefix: str = dataclasses.field(init=False, compare=False)
    """The literal text before the first placeholder (the whole text if there is none)."""
    _literals: tuple[str, ...] = dataclasses.field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.template, str):
            raise TypeError(f"a KeyTemplate needs str text, got {type(self.template).__name__}")
        literals, names = _split_template(self.template)
        object.__setattr__(self, "fields", names)
        object.__setattr__(self, "prefix", literals[0])
        object.__setattr__(self, "_literals", literals)

    def __repr__(self) -> str:
        return f"KeyTemplate({self.template!r})"

    def __str__(self) -> str:
        return self.template

    def __reduce__(self) -> tuple[type[KeyTemplate], tuple[str]]:
        return (type(self), (self.template,))

    def format(self, /, **values: str | int) -> str:
        """Build a key from one value per placeholder.

        Args:
            **values: one ``str`` or ``int`` per placeholder name (ints are written with
                ``str()``).

        Returns:
            The key text.

        Raises:
            KeyTemplateError: a value is missing, unexpected, empty, neither str nor int,
                or contains the literal that follows its placeholder (the key could not be
                parsed back).

        >>> KeyTemplate("SCORE#{score_id}").format(score_id="01JD8X")
        'SCORE#01JD8X'
        """
        names, literals = self.fields, self._literals
        if len(values) != len(names) or not all(name in values for name in names):
            missing = [name for name in names if name not in values]
            extra = sorted(set(values) - set(names))
            parts = [f"missing {', '.join(missing)}"] if missing else []
            parts += [f"unexpected {', '.join(extra)}"] if extra else []
            raise KeyTemplateError(self.template, f"format() values do not fit: {'; '.join(parts)}")
        out = [literals[0]]
        last = len(names) - 1
        for index, name in enumerate(names):
            value = values[name]
            if isinstance(value, int) and not isinstance(value, bool):
                if value.bit_length() > _KEY_BITS:  # str() refuses 4,300 digits anyway
                    raise KeyTemplateError(
                        self.template, f"{name} is a {value.bit_length()}-bit int: too long"
                    )
                text = str(value)
            elif isinstance(value, str):
                text = value
            else:
                kind = type(value).__name__
                raise KeyTemplateError(self.template, f"{name} must be str or int, got {kind}")
            if not text:
                raise KeyTemplateError(self.template, f"{name} must not be empty")
            follower = literals[index + 1]
            if index < last and (text + follower).find(follower) != len(text):
                raise KeyTemplateError(
                    self.template,
                    f"{name}={text!r} runs into the {follower!r} that follows it, "
                    "so the key could not be parsed back",
                )
            out += (text, follower)
        return "".join(out)

    def parse(self, key: str, /) -> dict[str, str]:
        """Split a key into its placeholder values.

        Args:
            key: the key text, e.g. ``"SCORE#01JD8X"``.

        Returns:
            One string per placeholder, by name, in template order.

        Raises:
            KeyTemplateError: the key does not fit the template.

        >>> KeyTemplate("SCORE#{score_id}").parse("SCORE#01JD8X")
        {'score_id': '01JD8X'}
        """
        values = self._match(key)
        if values is None:
            raise KeyTemplateError(self.template, f"key {show(key)} does not fit the template")
        return values

    def matches(self, key: object, /) -> bool:
        """Whether ``key`` fits the template (:meth:`parse` would succeed).

        Args:
            key: the value to test; anything but a str is False.

        Returns:
            True if the key fits.

        >>> scores = KeyTemplate("SCORE#{score_id}")
        >>> scores.matches("SCORE#01JD8X"), scores.matches("USER#7"), scores.matches("SCORE#")
        (True, False, False)
        """
        return self._match(key) is not None

    def _match(self, key: object) -> dict[str, str] | None:
        if not isinstance(key, str):
            return None
        literals, names = self._literals, self.fields
        head, tail = literals[0], literals[-1]
        if not names:
            return {} if key == head else None
        end = len(key) - len(tail)
        if not key.startswith(head) or not key.endswith(tail) or end <= len(head):
            return None
        values: dict[str, str] = {}
        start = len(head)
        for index, name in enumerate(names[:-1]):
            follower = literals[index + 1]
            stop = key.find(follower, start, end)
            if stop <= start:  # absent (-1) or an empty value
                return None
            values[name] = key[start:stop]
            start = stop + len(follower)
        if end <= start:
            return None
        values[names[-1]] = key[start:end]
        return values


def _split_template(template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Literal texts and placeholder names: ``literals[i]`` precedes ``names[i]``."""
    if not template:
        raise KeyTemplateError(template, "the template is empty")
    literals: list[str] = []
    names: list[str] = []
    text: list[str] = []
    index = 0
    while index < len(template):
        char = template[index]
        if template.startswith(("{{", "}}"), index):
            text.append(char)
            index += 2
        elif char == "{":
            close = template.find("}", index)
            name = template[index + 1 : close]
            if close == -1 or "{" in name:
                raise KeyTemplateError(template, f"'{{' at {index} is not closed")
            if not name.isidentifier():
                raise KeyTemplateError(template, f"placeholder {{{name}}} needs an identifier")
            if name in names:
                raise KeyTemplateError(template, f"placeholder {{{name}}} appears twice")
            if names and not text:
                raise KeyTemplateError(
                    template, f"{{{names[-1]}}}{{{name}}} need literal text between them"
                )
            literals.append("".join(text))
            names.append(name)
            text = []
            index = close + 1
        elif char == "}":
            raise KeyTemplateError(template, f"'}}' at {index} has no '{{' (write '}}}}')")
        else:
            text.append(char)
            index += 1
    literals.append("".join(text))
    return tuple(literals), tuple(names)
