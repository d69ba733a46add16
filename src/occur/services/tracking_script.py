"""A portal's tracking script: tracker.js called with the portal's configuration and
its code blocks, assembled once per change and kept in memory.

A busy site asks for the script on every first visit, so the assembled text and its
ETag are cached per portal; each request costs one small aggregate query
(store/tracking_script.script_version) to learn whether the cache still holds.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

from occur.domain import code_blocks, url_rules
from occur.domain.definitions import fully_qualified_name
from occur.errors import NotFound
from occur.store import tracking_script as store
from occur.store.db import Database
from occur.store.tracking_script import ScriptSource, ScriptVersion

log = logging.getLogger(__name__)
# Portal ids are 32-bit on PostgreSQL: a larger one cannot exist, and asking would fail.
_MAX_PORTAL_ID = 2**31 - 1


@dataclass(frozen=True)
class Script:
    """The script as text and gzipped (about a third of the bytes), each with its ETag."""

    text: str
    etag: str
    gzipped: bytes
    gzip_etag: str


@dataclass(frozen=True)
class ScriptSettings:
    """Where browsers reach occur: the collector and the picker's message origin."""

    public_url: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"


class ScriptCache:
    """Assembled scripts by portal, each with the version it was built from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[int, tuple[ScriptVersion, Script]] = {}

    def get(self, portal_id: int, version: ScriptVersion) -> Script | None:
        with self._lock:
            found = self._scripts.get(portal_id)
        return found[1] if found is not None and found[0] == version else None

    def put(self, portal_id: int, version: ScriptVersion, script: Script) -> None:
        with self._lock:
            self._scripts[portal_id] = (version, script)


@functools.cache
def tracker_source() -> str:
    """tracker.js as shipped in the package (read once: it changes only on upgrade)."""
    return resources.files("occur").joinpath("tracking/tracker.js").read_text("utf-8")


def script_for(
    db: Database, settings: ScriptSettings, cache: ScriptCache, portal_id: int
) -> Script:
    """The portal's script, from the cache while nothing it carries has changed."""
    if not 0 < portal_id <= _MAX_PORTAL_ID:
        raise NotFound(f"No portal {portal_id}.")
    with db.read() as conn:
        version = store.script_version(conn, portal_id)
        if version is None:
            raise NotFound(f"No portal {portal_id}.")
        cached = cache.get(portal_id, version)
        if cached is not None:
            return cached
        source = store.script_source(conn, portal_id)
    assert source is not None
    script = assemble(source, settings)
    cache.put(portal_id, version, script)
    return script


def assemble(source: ScriptSource, settings: ScriptSettings) -> Script:
    """tracker.js applied to the configuration and one function per valid code block."""
    portal_id = source.portal_id
    config = {
        "portalId": portal_id,
        "collector": f"{settings.public_url}/collect/{portal_id}",
        "origin": settings.origin,
        "consentRequired": source.consent_required,
        "visual": _visual_rules(source),
    }
    blocks = []
    for block in source.code_blocks:
        problem = code_blocks.syntax_problem(block.code)
        if problem is not None:  # saved before the check existed, or checked by an older one
            log.warning(
                "portal %s: code block of %s left out of the tracking script: %s",
                portal_id, block.name, problem.message,
            )  # fmt: skip
            continue
        name = fully_qualified_name(portal_id, block.name)
        blocks.append(f"// {name}\n{code_blocks.wrap(block.code)}")
    text = (
        tracker_source().rstrip()
        + "(\n"
        + script_json(config)
        + ",\n[\n"
        + ",\n".join(blocks)
        + "\n]);\n"
    )
    encoded = text.encode()
    digest = hashlib.sha256(encoded).hexdigest()[:32]
    # mtime=0: the same text always gzips to the same bytes, in every process.
    gzipped = gzip.compress(encoded, compresslevel=9, mtime=0)
    return Script(text, f'"{digest}"', gzipped, f'"{digest}-gzip"')


def script_json(value: object) -> str:
    """JSON that reads the same as JavaScript source anywhere in the file: ASCII only
    (U+2028 and U+2029 would end a line in older engines), `<` escaped so that neither
    `</script>` nor `<!--` appears if someone pastes the file into a page."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("<", "\\u003c")


def _visual_rules(source: ScriptSource) -> list[dict[str, object]]:
    rules: list[dict[str, object]] = []
    for visual in source.visual_rules:
        rule = url_rules.decode_rule(visual.rule_json, visual.tracking_type)
        if rule is None:
            log.warning("portal %s: unreadable rule of %s", source.portal_id, visual.name)
            continue
        rules.append(
            {
                "name": fully_qualified_name(source.portal_id, visual.name),
                "type": visual.tracking_type,
                **url_rules.rule_json(rule),
            }
        )
    return rules
