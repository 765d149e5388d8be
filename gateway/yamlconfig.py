"""YAML configuration files with line numbers: one precise message per problem.

A :class:`YamlDocument` is a file read with ``yaml.safe_load`` plus the node tree
``yaml.compose`` builds from the same text under ``SafeLoader``; the nodes give
every key its line. :func:`validate` runs a pydantic model over the data and turns
each error into ``file:line: key.path: expected ..., found ...``, the form every
config problem takes (STYLE.md section 4). Admins read these messages, so they
name what was expected, hint at YAML's traps (``01`` unquoted is the number 1)
and never echo what looks like a secret.

Imports only the standard library, pydantic, yaml and ``gateway.errors``.
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import AfterValidator, BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from gateway.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic.fields import FieldInfo
    from pydantic_core import ErrorDetails

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]

_MAX_FOUND = 60
# Keys whose value is a secret's name: a bad value there may be the secret itself.
_SECRET_KEY = re.compile(r"_secrets?$")
# Keys an admin might use to write a secret inline.
_SECRETISH = re.compile(r"pass|secret|token|api_?key|private|credential", re.IGNORECASE)
_EXPECTED = {
    "string_type": "text",
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), "a whole number"),
    **dict.fromkeys(("bool_type", "bool_parsing"), "true or false"),
    **dict.fromkeys(("decimal_type", "decimal_parsing", "float_type", "float_parsing"), "a number"),
    **dict.fromkeys(("dict_type", "model_type", "model_attributes_type"), "a mapping of keys"),
    **dict.fromkeys(("list_type", "tuple_type"), "a list"),
    **dict.fromkeys(
        ("date_parsing", "date_type", "date_from_datetime_parsing"), "a date (2024-01-31)"
    ),
    "too_short": "at least {min_length} item(s)",
    "too_long": "at most {max_length} item(s)",
    "string_too_short": "at least {min_length} character(s)",
    "string_too_long": "at most {max_length} character(s)",
    "greater_than": "a number greater than {gt}",
    "greater_than_equal": "a number of at least {ge}",
    "less_than": "a number less than {lt}",
    "less_than_equal": "a number of at most {le}",
    "decimal_max_places": "at most {decimal_places} decimal places",
    "literal_error": "{expected}",
    "string_pattern_mismatch": "text matching {pattern}",
    "format": "{what}",
}
_STRINGISH = {"string_type", "literal_error", "format", "string_pattern_mismatch"}


def matches(pattern: str, what: str) -> AfterValidator:
    """A validator for ``Annotated[str, ...]`` whose error says ``expected <what>``."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError("format", "expected {what}", {"what": what})
        return value

    return AfterValidator(check)


def _relative_path(value: str) -> str:
    if value.startswith("/") or ".." in value.split("/") or not value or "\\" in value:
        what = "a relative path such as acme/items.csv (no leading /, no ..)"
        raise PydanticCustomError("format", "expected {what}", {"what": what})
    return value


RelativePath = Annotated[str, AfterValidator(_relative_path)]
"""A file a config file refers to, relative to the directory of the config files."""


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One YAML file: its data as ``yaml.safe_load`` reads it, and its node tree for lines.

    ``display`` is how messages name the file, e.g. ``partners/acme.yaml``. Integer
    mapping keys are turned into strings (``850:`` and ``"850":`` mean the same key).
    """

    display: str
    data: object
    root: yaml.Node | None

    def lookup(self, loc: Loc) -> tuple[int, yaml.Node | None]:
        """The line of the deepest key of ``loc`` present in the file, and its value node."""
        node = self.root
        if node is None:
            return 1, None
        line = node.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                found = [(k, v) for k, v in node.value if getattr(k, "value", None) == str(part)]
                if not found:
                    return line, None
                key, node = found[-1]  # safe_load keeps the last of duplicate keys
                line = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return line, None
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line, None
        return line, node

    def problem(self, loc: Loc, message: str) -> str:
        """``file:line: key.path: message`` for a problem at ``loc``."""
        line, _ = self.lookup(loc)
        return f"{self.display}:{line}: {key_path(loc)}: {message}"


def key_path(loc: Loc) -> str:
    """Render a location as ``channels.inbound.host`` or ``identity.isa[0].id``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_yaml(text: str, *, display: str) -> YamlDocument:
    """Parse YAML text; a syntax error raises ConfigError naming the file and line."""
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{display}:{mark.line + 1}" if mark else display
        column = f" (column {mark.column + 1})" if mark else ""
        raise ConfigError(f"{where}: not valid YAML: {exc.problem}{column}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{display}: not valid YAML: {exc}") from exc
    return YamlDocument(display, _string_keys(data), root)


def read_yaml(path: Path, *, display: str) -> YamlDocument:
    """Read and parse a YAML file (UTF-8); unreadable files raise ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{display}: cannot read the file: {exc}") from exc
    return parse_yaml(text, display=display)


def validate(
    model: type[M], doc: YamlDocument, *, what: str = "a mapping of keys to values"
) -> tuple[M | None, list[str]]:
    """Validate a document against ``model``; returns the instance or every problem found.

    Problems come in line order. A list that is too short only because its items
    were wrong is not reported again.
    """
    found = _duplicate_keys(doc)
    if doc.data is None:
        return None, [text for _, text in found] + [f"{doc.display}:1: empty; expected {what}"]
    instance = None
    try:
        instance = model.model_validate(doc.data)
    except ValidationError as exc:
        errors = exc.errors()
        locs = [tuple(err["loc"]) for err in errors]
        found += [
            _problem(err, model, doc)
            for err in errors
            if not (
                err["type"] == "too_short" and any(_extends(o, tuple(err["loc"])) for o in locs)
            )
        ]
    problems = [text for _, text in sorted(found, key=lambda item: item[0])]
    return (instance, []) if not problems else (None, problems)


def _extends(longer: tuple[int | str, ...], prefix: tuple[int | str, ...]) -> bool:
    return len(longer) > len(prefix) and longer[: len(prefix)] == prefix


def _duplicate_keys(doc: YamlDocument) -> list[tuple[int, str]]:
    """One problem for each key written twice in the same mapping, with its line."""
    out: list[tuple[int, str]] = []

    def walk(node: yaml.Node | None, loc: Loc) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                name = str(getattr(key, "value", ""))
                line = key.start_mark.line + 1
                if name in seen:
                    where = f"{doc.display}:{line}: {key_path((*loc, name))}"
                    why = f"duplicate key, also at line {seen[name]}; YAML keeps only the last one"
                    out.append((line, f"{where}: {why}"))
                seen[name] = line
                walk(value, (*loc, name))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*loc, index))

    walk(doc.root, ())
    return out


def _problem(
    err: ErrorDetails, model: type[BaseModel] | None, doc: YamlDocument
) -> tuple[int, str]:
    loc, owner = clean_loc(model, err["loc"]) if model else (tuple(err["loc"]), None)
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, str((err.get("ctx") or {}).get("discriminator", "kind")).strip("'"))
    line, node = doc.lookup(loc)
    message = explain(err, loc=loc, owner=owner, node=node)
    return line, f"{doc.display}:{line}: {key_path(loc)}: {message}"


def explain(
    err: ErrorDetails,
    *,
    loc: Loc = (),
    owner: type[BaseModel] | None = None,
    node: yaml.Node | None = None,
) -> str:
    """The message part of a problem: what was expected, what was found, and a hint."""
    kind, ctx = err["type"], dict(err.get("ctx") or {})
    last = str(loc[-1]) if loc else ""
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return _unknown_key(last, owner)
    if kind == "union_tag_invalid":
        return f"expected one of {ctx.get('expected_tags')}, found {_found(ctx.get('tag'), None)}"
    if kind == "union_tag_not_found":
        return f"required, but missing; it says which kind of {key_path(loc[:-1])} this is"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    template = _EXPECTED.get(kind)
    if template is None:
        return str(err["msg"])
    expected = template.format(**ctx)
    key = next((str(part) for part in reversed(loc) if isinstance(part, str)), "")
    if _SECRET_KEY.search(key) and kind in _STRINGISH:
        return (
            f"expected {expected}; the value given is not shown because it may be the secret "
            "itself: secrets go in O2C_SECRET_<NAME> or the secrets directory, never in YAML"
        )
    message = f"expected {expected}, found {_found(err['input'], node)}"
    raw = _plain_scalar(node)
    if kind in _STRINGISH and raw is not None and not isinstance(err["input"], str):
        message += _quote_hint(raw, err["input"], expected if kind == "literal_error" else None)
    return message


def _quote_hint(raw: str, value: object, choices: str | None) -> str:
    """Say how YAML read an unquoted value, when quoting it would help."""
    if choices is not None and f"'{raw}'" not in choices:
        return ""
    if raw != _yaml_value(value):
        return f" (unquoted, YAML reads {raw} as {_yaml_value(value)}): write '{raw}' in quotes"
    return f": write it in quotes, '{raw}'"


def clean_loc(
    model: type[BaseModel], loc: tuple[int | str, ...]
) -> tuple[Loc, type[BaseModel] | None]:
    """Drop the union tags pydantic adds to error locations; also return the owning model.

    ``("channels", "inbound", "sftp_poll", "host")`` becomes ``("channels", "inbound",
    "host")``, and the owner is the model in which the last part is a key.
    """
    clean: list[str | int] = []
    tp: object = model
    owner: type[BaseModel] | None = None
    for part in loc:
        tp = _unwrap(tp)
        members = _model_members(tp)
        if members:
            tagged = _tag_member(members, part)
            if tagged is not None:
                tp = tagged
                continue
            tp = next((m for m in members if str(part) in _keys(m)), members[0])
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            owner = tp
            field = _keys(tp).get(str(part))
            tp = field.annotation if field is not None else None
        elif get_origin(tp) in (tuple, list):
            tp = get_args(tp)[0] if get_args(tp) else None
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1] if get_args(tp) else None
        else:
            tp = None
        if part != "[key]":
            clean.append(part)
    return tuple(clean), owner


def _keys(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The YAML keys of a model (aliases where set) with their field infos."""
    return {(info.alias or name): info for name, info in model.model_fields.items()}


def _unwrap(tp: object) -> object:
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        if get_origin(tp) in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def _model_members(tp: object) -> list[type[BaseModel]]:
    if get_origin(tp) not in (Union, types.UnionType):
        return []
    args = [_unwrap(a) for a in get_args(tp) if a is not type(None)]
    return [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]


def _tag_member(members: list[type[BaseModel]], part: str | int) -> type[BaseModel] | None:
    for member in members:
        for info in member.model_fields.values():
            if get_origin(info.annotation) is Literal and get_args(info.annotation) == (part,):
                return member
    return None


def _unknown_key(key: str, owner: type[BaseModel] | None) -> str:
    message = "unknown key"
    allowed = sorted(_keys(owner)) if owner is not None else []
    if _SECRETISH.search(key):
        named = [k for k in allowed if _SECRET_KEY.search(k)]
        hint = f"name it with {' or '.join(named)}" if named else "name it with a *_secret key"
        return (
            f"{message}; secrets never go in YAML: {hint} and put the value in the "
            "environment (O2C_SECRET_<NAME>) or the secrets directory"
        )
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    if allowed:
        message += f"; expected one of: {', '.join(allowed)}"
    return message


def _found(value: object, node: yaml.Node | None) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}" if value else "an empty list"
    raw = _plain_scalar(node)
    text = raw if raw is not None and not isinstance(value, str) else _yaml_value(value)
    return text if len(text) <= _MAX_FOUND else text[: _MAX_FOUND - 3] + "..."


def _yaml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if "'" not in value else f'"{value}"'
    return str(value)


def _plain_scalar(node: yaml.Node | None) -> str | None:
    """The text of an unquoted scalar as written in the file, else None."""
    if isinstance(node, yaml.ScalarNode) and node.style is None:
        return str(node.value)
    return None


def _string_keys(data: object) -> object:
    if isinstance(data, dict):
        return {
            (str(k) if isinstance(k, int) and not isinstance(k, bool) else k): _string_keys(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_string_keys(v) for v in data]
    return data
