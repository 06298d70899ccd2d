"""``ClientConfig``: what builds an :class:`~wxocr_async.OcrClient`, as a value that crosses
process boundaries (pickle, cloudpickle: Ray, Dask, Celery, ``multiprocessing``).

A client holds a session, a token cache, limits and perhaps engine workers: none of it
can travel, and copies of one client would each fetch a token and each spend the whole
quota. A config travels instead, and each process builds its own client from it; the
token and the quota are then shared through Redis (``redis_url``).

The credentials (``appid``, ``secret``, ``token``), ``base_url`` and ``redis_url`` left
``None`` are read from the environment of the process that calls :meth:`build` (the
``WXOCR_*`` variables), so a secret can come from the worker's own environment (a
Kubernetes Secret, a Celery worker's settings) instead of travelling with the job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

import attrs

from .errors import InvalidInput
from .naming import Naming

if TYPE_CHECKING:
    from .client import OcrClient

ENV_APPID = "WXOCR_APPID"
ENV_SECRET = "WXOCR_SECRET"
ENV_TOKEN = "WXOCR_TOKEN"
ENV_BASE_URL = "WXOCR_BASE_URL"
ENV_REDIS_URL = "WXOCR_REDIS_URL"
#: field -> the variable it is read from when left None
ENV_FIELDS = {
    "appid": ENV_APPID,
    "secret": ENV_SECRET,
    "token": ENV_TOKEN,
    "base_url": ENV_BASE_URL,
    "redis_url": ENV_REDIS_URL,
}

Engine = Literal["wechat", "local"]


def _optional(kind: type | tuple[type, ...], name: str) -> Any:
    def check(_: object, __: object, value: object) -> None:
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise InvalidInput(f"ClientConfig.{name} must be {_kind_text(kind)} or None")

    return check


def _kind_text(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _hidden(value: object) -> str:
    return "None" if value is None else "'***'"


def _redis_shown(url: object) -> str:
    """A Redis URL without its password (``redis://user:***@host``)."""
    if url is None:
        return "None"
    return repr(re.sub(r"(?<=://)([^:@/]*):[^@/]*@", r"\1:***@", str(url)))


@attrs.frozen(repr=False)
class ClientConfig:
    """What builds an :class:`~wxocr_async.OcrClient`, picklable and hashable.

    ``engine``: ``"wechat"``, ``"local"``, or None: WeChat when there are credentials (or
    a ``base_url``), else the local engine (``[local]``). ``local_workers``: recognition
    processes (0: a thread of the client's process; None: one per CPU); ``local_threads``:
    ONNX Runtime threads in each. ``naming`` is the default for result lines
    (:mod:`wxocr_async.jobs`). Other fields are :class:`~wxocr_async.OcrClient`'s.
    """

    engine: Engine | None = attrs.field(default=None)
    appid: str | None = attrs.field(default=None, validator=_optional(str, "appid"))
    secret: str | None = attrs.field(default=None, validator=_optional(str, "secret"))
    token: str | None = attrs.field(default=None, validator=_optional(str, "token"))
    base_url: str | None = attrs.field(default=None, validator=_optional(str, "base_url"))
    redis_url: str | None = attrs.field(default=None, validator=_optional(str, "redis_url"))
    daily_quota: int | None = attrs.field(default=None, validator=_optional(int, "daily_quota"))
    timeout: float | None = attrs.field(default=30.0, validator=_optional((int, float), "timeout"))
    concurrency: int | None = attrs.field(default=None, validator=_optional(int, "concurrency"))
    local_workers: int | None = attrs.field(default=0, validator=_optional(int, "local_workers"))
    local_threads: int | None = attrs.field(default=None, validator=_optional(int, "local_threads"))
    fallback: Literal["local"] | None = None
    shrink_images: bool = False
    naming: Naming = "snake"

    def __attrs_post_init__(self) -> None:
        if self.engine not in (None, *get_args(Engine)):
            raise InvalidInput(f"engine must be 'wechat', 'local' or None, not {self.engine!r}")
        if self.naming not in get_args(Naming):
            raise InvalidInput(f"naming must be 'snake' or 'camel', not {self.naming!r}")
        if self.fallback not in (None, "local"):
            raise InvalidInput(f"fallback must be 'local' or None, not {self.fallback!r}")

    def __repr__(self) -> str:
        shown = {
            "secret": _hidden(self.secret),
            "token": _hidden(self.token),
            "redis_url": _redis_shown(self.redis_url),
        }
        fields = ", ".join(
            f"{a.name}={shown.get(a.name, repr(getattr(self, a.name)))}"
            for a in attrs.fields(type(self))
        )
        return f"ClientConfig({fields})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ClientConfig:
        """A config holding the ``WXOCR_*`` variables of ``env`` (default: this process's
        environment), then ``overrides``. (A config whose credentials are left None reads
        them where it is built instead.)"""
        env = os.environ if env is None else env
        read = {name: env.get(var) or None for name, var in ENV_FIELDS.items()}
        return cls(**{**read, **overrides})

    def resolved(self, env: Mapping[str, str] | None = None) -> ClientConfig:
        """This config with its None credentials, ``base_url`` and ``redis_url`` read
        from ``env`` (default: this process's environment), and its engine chosen."""
        env = os.environ if env is None else env
        filled: dict[str, Any] = {
            name: getattr(self, name) or env.get(var) or None for name, var in ENV_FIELDS.items()
        }
        config = attrs.evolve(self, **filled)
        if (config.appid is None) != (config.secret is None) and config.token is None:
            have, missing = (ENV_APPID, ENV_SECRET) if config.appid else (ENV_SECRET, ENV_APPID)
            raise InvalidInput(f"appid and secret go together: {have} is set but {missing} is not")
        engine = config.engine
        if engine is None:
            credentials = config.appid or config.token or config.base_url
            engine = "wechat" if credentials else "local"
        if engine == "local" and config.engine is None:
            from .local import model_available

            if not model_available():
                raise InvalidInput(
                    f"no credentials: set {ENV_APPID} and {ENV_SECRET} (or {ENV_TOKEN}) "
                    f"({ENV_BASE_URL} points at another server), or pip install "
                    "'wxocr_async[local]' to recognise offline",
                )
        return attrs.evolve(config, engine=engine)

    def build(self, env: Mapping[str, str] | None = None, **options: Any) -> OcrClient:
        """A new :class:`~wxocr_async.OcrClient` (:meth:`resolved` first); ``options`` go
        to its constructor as well (``on_attempt=``, ``retry=``, ``store=``: then none is
        made from ``redis_url``, ...)."""
        from .client import DEFAULT_BASE_URL, OcrClient

        config = self.resolved(env)
        common: dict[str, Any] = {
            "timeout": config.timeout,
            "shrink_images": config.shrink_images,
            "local_threads": config.local_threads,
        }
        if config.concurrency is not None:
            common["concurrency"] = config.concurrency
        workers = config.local_workers
        if workers is None:
            from .local.engine import default_workers

            workers = default_workers()
        common["local_workers"] = workers
        if config.engine == "local":
            return OcrClient(engine="local", **{**common, **options})
        if config.redis_url is not None and "store" not in options:  # a store of the caller's
            from .redis_store import RedisStore

            common["store"] = RedisStore.from_url(config.redis_url)
        return OcrClient(
            config.appid if config.token is None else None,
            config.secret if config.token is None else None,
            token=config.token,
            base_url=config.base_url or DEFAULT_BASE_URL,
            daily_quota=config.daily_quota,
            fallback=config.fallback,
            **{**common, **options},
        )
