"""Build new profiles: the settings each storage, repository and broker kind needs, and ``presto``.

:data:`FIELDS` lists, per ``(section, kind)``, the settings of that part with their defaults;
``provgraph profile setup`` turns them into options (``--<section>-<key>``) and prompts.
:func:`build_profile` checks the values and puts secret ones in the profile's secrets (a file
only the user can read, see :mod:`provgraph.profiles.config`). :func:`presto_profile` is the
embedded profile that needs no server: sqlite storage, a local repository and a sqlite queue
file as broker, all in ``$PROVGRAPH_HOME/<name>/``. :func:`initialise_profile` creates and
migrates the storage and the repository of a new profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provgraph.exceptions import ConfigurationError
from provgraph.profiles.config import Config, Profile, _validate_name, is_reserved_name

#: the kinds of each profile section, the first being the default of ``profile setup``
KINDS: dict[str, tuple[str, ...]] = {
    "storage": ("neo4j", "sqlite"),
    "repository": ("local", "s3"),
    "broker": ("rabbitmq", "sqlite"),
}
PRESTO_NAME = "presto"


@dataclass(frozen=True)
class Field:
    """One setting of a profile part.

    :param key: the config key, e.g. ``uri``
    :param help: what it is, for prompts and ``--help``
    :param default: the default value; a string with ``{folder}`` is a path in the profile's folder;
        None when the value must be given
    :param secret: kept in the secrets file and prompted without echo
    :param type: ``str`` or ``int``
    """

    key: str
    help: str
    default: str | int | None = None
    secret: bool = False
    type: type = str


FIELDS: dict[tuple[str, str], tuple[Field, ...]] = {
    ("storage", "neo4j"): (
        Field("uri", "Neo4j bolt URI", "bolt://127.0.0.1:7687"),
        Field("user", "Neo4j user", "neo4j"),
        Field("password", "Neo4j password", secret=True),
        Field("database", "Neo4j database", "neo4j"),
    ),
    ("storage", "sqlite"): (Field("path", "sqlite database file", "{folder}/storage.sqlite"),),
    ("repository", "local"): (Field("path", "repository folder", "{folder}/repository"),),
    ("repository", "s3"): (
        Field("endpoint_url", "S3 endpoint URL", "http://127.0.0.1:9000"),
        Field("bucket", "S3 bucket"),
        Field("region", "S3 region", "us-east-1"),
        Field("access_key", "S3 access key"),
        Field("secret_key", "S3 secret key", secret=True),
    ),
    ("broker", "rabbitmq"): (
        Field("host", "RabbitMQ host", "127.0.0.1"),
        Field("port", "RabbitMQ port", 5672, type=int),
        Field("user", "RabbitMQ user", "guest"),
        Field("password", "RabbitMQ password", secret=True),
        Field("vhost", "RabbitMQ virtual host", "/"),
    ),
    ("broker", "sqlite"): (Field("path", "sqlite queue file (no server)", "{folder}/broker.sqlite"),),
}


def profile_folder(name: str, home: Path | None = None) -> Path:
    """The folder of a profile's local files (``$PROVGRAPH_HOME/<name>``)."""
    return (home or Config().home) / name


def deletable_folder(name: str, home: Path | None = None) -> Path:
    """The folder ``profile delete --delete-data`` may remove for profile ``name`` (it may not exist).

    Only a real folder directly inside the home, named as the profile, that is none of the home's
    own entries: a profile named ``secrets`` (allowed by older versions) must not take every
    profile's credentials with it, and a symbolic link is never followed out of the home.

    :raises ConfigurationError: when that folder is not the profile's own to delete
    """
    home = home or Config().home
    folder = home / name
    if is_reserved_name(name) or name in ("", ".", "..") or "/" in name or "\\" in name:
        raise ConfigurationError(f"{folder} is not the folder of profile {name!r} alone (the name is reserved "
                                 "for the configuration folder's own files); remove the profile without "
                                 "--delete-data and delete its data by hand")
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise ConfigurationError(f"{folder} is not a folder (a symbolic link or a file): provgraph deletes "
                                 "only a profile folder it made; remove it by hand")
    if folder.exists() and folder.resolve().parent != home.resolve():
        raise ConfigurationError(f"{folder} lies outside {home}; not deleting it")
    return folder


def default_value(field: Field, folder: Path) -> str | int | None:
    """The default of ``field`` for a profile whose folder is ``folder``."""
    if isinstance(field.default, str) and "{folder}" in field.default:
        return field.default.replace("{folder}", str(folder))
    return field.default


def check_kind(section: str, kind: str) -> str:
    """Return ``kind`` if ``section`` has it.

    :raises ConfigurationError: for an unknown section or kind
    """
    if section not in KINDS:
        raise ConfigurationError(f"unknown profile section {section!r}; expected one of {', '.join(KINDS)}")
    if kind not in KINDS[section]:
        raise ConfigurationError(f"unknown {section} kind {kind!r}; expected one of {', '.join(KINDS[section])}")
    return kind


def _section(section: str, kind: str, values: Mapping[str, Any], folder: Path) -> tuple[dict, dict]:
    config, secrets = {}, {}
    for field in FIELDS[(section, check_kind(section, kind))]:
        value = values.get(field.key)
        if value is None or value == "":
            value = default_value(field, folder)
        if value is None or value == "":
            option = f"--{section}-{field.key.replace('_', '-')}"
            raise ConfigurationError(f"the {kind} {section} needs the {field.help} ({option})")
        try:
            value = field.type(value)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"{section} {field.key} must be {field.type.__name__}, not {value!r}") from exc
        if field.type is str and field.key == "path":
            value = str(Path(value).expanduser().resolve())
        (secrets if field.secret else config)[field.key] = value
    return config, secrets


def build_profile(name: str, kinds: Mapping[str, str], values: Mapping[str, Mapping[str, Any]],
                  home: Path | None = None) -> Profile:
    """A new profile of the chosen kinds, from ``values`` (section -> key -> value) and the defaults.

    :raises ConfigurationError: for a bad name, an unknown kind, or a missing or malformed value
    """
    _validate_name(name)
    folder = profile_folder(name, home)
    sections, secrets = {}, {}
    for section in KINDS:
        kind = kinds.get(section) or KINDS[section][0]
        config, secret = _section(section, kind, values.get(section, {}), folder)
        sections[section] = {"backend": kind, "config": config}
        if secret:
            secrets[section] = secret
    return Profile(name=name, secrets=secrets, **sections)


def presto_profile(name: str | None = None, home: Path | None = None) -> Profile:
    """The embedded profile: sqlite storage, local repository, sqlite queue file, all in the profile's folder.

    :param name: the profile's name; by default ``presto``, or ``presto-<n>`` when that is taken (by a
        profile, or by the files a deleted profile left in its folder)
    :raises ConfigurationError: when ``name`` is taken or invalid
    """
    config = Config(home)
    existing = set(config.profile_names())

    def taken(candidate: str) -> bool:  # a profile, or the folder a deleted profile left behind
        folder = profile_folder(candidate, config.home)
        return candidate in existing or (folder.exists() and any(folder.iterdir()))

    if name is None:
        name = next(candidate for candidate in (PRESTO_NAME, *(f"{PRESTO_NAME}-{n}" for n in range(1, 10000)))
                    if not taken(candidate))
    elif name in existing:
        raise ConfigurationError(f"a profile named {name!r} exists in {config.home}; choose another --profile-name")
    elif taken(name):
        raise ConfigurationError(f"{profile_folder(name, config.home)} holds the files of an earlier profile; "
                                 "remove it or choose another --profile-name")
    return build_profile(name, {"storage": "sqlite", "repository": "local", "broker": "sqlite"}, {}, config.home)


def initialise_profile(profile: Profile) -> list[str]:
    """Create the storage (migrated to the code's schema) and the repository of ``profile``; return migrations applied.

    :raises StorageError: when the storage cannot be reached or migrated
    :raises RepositoryError: when the repository cannot be created
    """
    from provgraph.plugins import load_plugin

    storage_cls = load_plugin("storage", _entry_name(profile.storage["backend"]))
    backend = storage_cls(profile.section_config("storage"), check_schema=False)
    try:
        applied = backend.migrate()
    finally:
        backend.close()
    repository_cls = load_plugin("repository", _entry_name(profile.repository["backend"]))
    repository_cls.from_config(profile.section_config("repository")).uuid  # noqa: B018 - creates it
    return applied


def _entry_name(kind: str) -> str:
    return kind if "." in kind else f"core.{kind}"
