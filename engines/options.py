"""A small declarative option schema: each engine lists its options with type, default and limits.

One schema validates a request's options (unknown, wrong type, out of range: OptionError naming the option)
and renders itself as JSON Schema for `GET /api/v1/engines` and the console's forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

_UNSET: Any = object()


@dataclass(frozen=True)
class Option:
    name: str
    type: type  # bool, int, str or list (of str)
    default: Any = _UNSET  # _UNSET: no default; the key is absent unless given
    description: str = ""
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] | None = None  # for str, or for each item of a list
    pattern: str | None = None  # for str, or for each item of a list
    max_items: int = 64
    max_length: int = 256
    check: Callable[[Any], None] | None = field(default=None, compare=False)  # raises ValueError

    def validate(self, value: Any) -> Any:
        if self.type is bool:
            if not isinstance(value, bool):
                raise OptionTypeError(self.name, "must be true or false")
            return value
        if self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise OptionTypeError(self.name, "must be an integer")
            if self.minimum is not None and value < self.minimum:
                raise OptionTypeError(self.name, f"must be at least {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise OptionTypeError(self.name, f"must be at most {self.maximum}")
            return value
        if self.type is str:
            return self._validate_str(value, self.name)
        if self.type is list:
            if not isinstance(value, list):
                raise OptionTypeError(self.name, "must be a list of strings")
            if len(value) > self.max_items:
                raise OptionTypeError(self.name, f"must have at most {self.max_items} items")
            items = [self._validate_str(item, f"{self.name}[{i}]") for i, item in enumerate(value)]
            if self.check is not None:
                self._run_check(items)
            return items
        raise TypeError(f"unsupported option type {self.type}")

    def _validate_str(self, value: Any, label: str) -> str:
        if not isinstance(value, str):
            raise OptionTypeError(label, "must be a string")
        if len(value) > self.max_length:
            raise OptionTypeError(label, f"must be at most {self.max_length} characters")
        if value.startswith("-"):
            raise OptionTypeError(label, "must not start with '-'")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise OptionTypeError(label, "must not contain control characters")
        if self.choices is not None and value not in self.choices:
            raise OptionTypeError(label, f"must be one of {', '.join(self.choices)}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise OptionTypeError(label, f"has an invalid format ({value!r})")
        if self.check is not None and self.type is str:
            self._run_check(value)
        return value

    def _run_check(self, value: Any) -> None:
        try:
            self.check(value)  # type: ignore[misc]
        except ValueError as exc:
            raise OptionTypeError(self.name, str(exc)) from None

    def json_schema(self) -> dict[str, Any]:
        kinds = {bool: "boolean", int: "integer", str: "string", list: "array"}
        schema: dict[str, Any] = {"type": kinds[self.type], "description": self.description}
        if self.default is not _UNSET:
            schema["default"] = self.default
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        string_rules: dict[str, Any] = {}
        if self.choices is not None:
            string_rules["enum"] = list(self.choices)
        if self.pattern is not None:
            string_rules["pattern"] = f"^(?:{self.pattern})$"
        if self.type is list:
            schema["items"] = {"type": "string", **string_rules}
            schema["maxItems"] = self.max_items
        else:
            schema.update(string_rules)
        return schema


class OptionTypeError(ValueError):
    def __init__(self, option: str, message: str):
        super().__init__(f"option '{option}' {message}")
        self.option = option


@dataclass(frozen=True)
class OptionSchema:
    options: tuple[Option, ...]

    def names(self) -> list[str]:
        return [option.name for option in self.options]

    def validate(self, raw: Any) -> dict[str, Any]:
        """Validated options with defaults filled in. Raises OptionTypeError naming the first bad option."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise OptionTypeError("options", "must be an object")
        by_name = {option.name: option for option in self.options}
        unknown = sorted(set(raw) - set(by_name))
        if unknown:
            raise OptionTypeError(unknown[0], f"is not an option of this engine (known: {', '.join(by_name)})")
        result: dict[str, Any] = {}
        for option in self.options:
            if option.name in raw and raw[option.name] is not None:
                result[option.name] = option.validate(raw[option.name])
            elif option.default is not _UNSET:
                result[option.name] = option.default
        return result

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {option.name: option.json_schema() for option in self.options},
        }
