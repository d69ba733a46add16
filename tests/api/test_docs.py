"""docs/ must name every route and every setting; a new one without docs fails here."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import Route

from occur.app import create_app
from occur.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _routes(tmp_path: Path, package: str = "occur.api") -> list[tuple[str, str]]:
    """The routes whose handlers live in `package`, spelled as the docs spell them."""
    settings = Settings.from_env({"OCCUR_DATA_DIR": str(tmp_path), "OCCUR_SECRET_KEY": "x"})
    app = create_app(settings)
    found = []
    for route in app.routes:
        if not isinstance(route, Route) or not route.endpoint.__module__.startswith(package):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            path = re.sub(
                r"\{(\w+?)(?::\w+)?\}", lambda m: "{" + _camel(m.group(1)) + "}", route.path
            )
            found.append((method, path))
    app.state.ctx.db.dispose()
    return found


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def test_every_route_is_in_api_md(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "api.md").read_text()
    methods = "GET|POST|PATCH|PUT|DELETE|OPTIONS"
    rows = set(re.findall(rf"^\| ({methods}) \| `([^`]+)` \|", doc, re.MULTILINE))
    routes = _routes(tmp_path)
    assert routes
    missing = [f"{m} {p}" for m, p in routes if (m, p) not in rows]
    assert missing == []
    stale = [f"{m} {p}" for m, p in rows if (m, p) not in set(routes)]
    assert stale == []


def test_every_page_is_in_web_app_md(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "web-app.md").read_text()
    rows = set(re.findall(r"^\| (GET|POST) \| `([^`]+)` \|", doc, re.MULTILINE))
    pages = [
        (m, re.sub(r"^/app/\{portalId\}", "/app/{p}", p))
        for m, p in _routes(tmp_path, "occur.ui")
        if not p.startswith("/static/")
    ]
    assert pages
    assert sorted(f"{m} {p}" for m, p in pages if (m, p) not in rows) == []
    assert sorted(f"{m} {p}" for m, p in rows if (m, p) not in set(pages)) == []


def test_every_setting_is_in_settings_md() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "src" / "occur").rglob("*.py"))
    used = set(re.findall(r"\bOCCUR_[A-Z_]+[A-Z]\b", source))
    assert "OCCUR_DATABASE_URL" in used
    doc = (ROOT / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^\| `(OCCUR_[A-Z_]+)` \|", doc, re.MULTILINE))
    assert sorted(used - documented) == []
    assert sorted(documented - used) == []
