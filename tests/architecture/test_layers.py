"""The layers of docs/architecture.md, checked over the import graph.

Dependencies point one way: front doors -> domain -> lower layers ->
foundation. Only the composition root wires every app. Module import cycles
are refused, local imports included, except a service's function-local import
of its own app's tasks module (the task <-> service pair STYLE.md allows).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.architecture.graph import ImportEdge, cycles, import_edges, modules_under

ROOT = Path(__file__).resolve().parents[2]

# Each app and the apps it may import. Anything not listed is forbidden.
LAYERS: dict[str, set[str]] = {
    "privacydesk": set(),
    "accounts": {"privacydesk"},
    "audit": {"accounts", "privacydesk"},
    "subjects": {"audit", "accounts", "privacydesk"},
    "connectors": {"audit", "accounts", "privacydesk"},
    "dsr": {"subjects", "connectors", "audit", "accounts", "privacydesk"},
    "consent": {"dsr", "subjects", "connectors", "audit", "accounts", "privacydesk"},
    # Self-minimisation keeps a subject whose consent events prove consent:
    # retention reads consent; consent never reads retention.
    "retention": {
        "consent",
        "dsr",
        "subjects",
        "connectors",
        "audit",
        "accounts",
        "privacydesk",
    },
    # The OpenDSR door: takes requests in through dsr's intake and tells
    # controllers of their status; nothing below imports it (the lifecycle
    # reaches it by task name, privacydesk.wiring).
    "opendsr": {"dsr", "subjects", "connectors", "audit", "accounts", "privacydesk"},
    # The masking gateway, at the consent level: masks text with the one
    # detector (connectors.redaction), checks consent; the lifecycle reaches
    # its shredding task by name.
    "masking": {
        "consent",
        "dsr",
        "subjects",
        "connectors",
        "audit",
        "accounts",
        "privacydesk",
    },
    # Training exclusions and datasets: reads consent and dsr; nothing below
    # imports it (the lifecycle and consent reach it by task name).
    "training": {
        "consent",
        "dsr",
        "subjects",
        "connectors",
        "audit",
        "accounts",
        "privacydesk",
    },
    # Anomaly alerts: rules over the audit chain and request activity; the
    # front doors show them, nothing below imports them.
    "alerts": {"dsr", "subjects", "connectors", "audit", "accounts", "privacydesk"},
    "evidence": {
        "masking",
        "training",
        "retention",
        "consent",
        "dsr",
        "subjects",
        "connectors",
        "audit",
        "accounts",
        "privacydesk",
    },
}
# Records of processing (Art. 30) and the data map: read what every domain
# app configures and render exports through evidence's packs; nothing below
# imports it.
LAYERS["records"] = set(LAYERS["evidence"]) | {"evidence"}
# The breach register: above evidence (its pack is rendered and verified by
# the evidence machinery); it e-mails through dsr.notifications and links
# notices to known subjects. Nothing but the front doors imports it.
LAYERS["breaches"] = {"evidence", *LAYERS["evidence"]}
DOMAIN_AND_BELOW = set(LAYERS)
LAYERS["portal"] = DOMAIN_AND_BELOW
LAYERS["dashboard"] = DOMAIN_AND_BELOW

# The composition root: the only modules that may import every app.
COMPOSITION_ROOT = (
    "privacydesk.urls",
    "privacydesk.celery",
    "privacydesk.settings",
    "privacydesk.settings_test",
    "privacydesk.launcher",
    "privacydesk.health",
    "privacydesk.management",
)


def _app(module: str) -> str:
    return module.split(".", 1)[0]


def _in_root(module: str) -> bool:
    return any(
        module == root or module.startswith(root + ".") for root in COMPOSITION_ROOT
    )


def _edges() -> list[ImportEdge]:
    apps = [app for app in LAYERS if (ROOT / app).is_dir()]
    return list(import_edges(ROOT, modules_under(ROOT, apps)))


def _allowed_local(edge: ImportEdge) -> bool:
    """A service's function-local import of its own app's tasks module."""
    return (
        edge.local
        and edge.target == f"{_app(edge.source)}.tasks"
        and ".services" in edge.source
    )


def test_every_app_imports_only_the_layers_below_it() -> None:
    # given the import graph of every app
    forbidden = []
    for edge in _edges():
        source, target = _app(edge.source), _app(edge.target)
        if source == target or _in_root(edge.source):
            continue
        if target in LAYERS[source]:
            continue
        arrow = f"{edge.source}:{edge.line} -> {edge.target}"
        if arrow not in forbidden:
            forbidden.append(arrow)
    # then no arrow points up or sideways
    assert not forbidden, "imports against the layers:\n" + "\n".join(forbidden)


def test_no_import_cycle_between_modules() -> None:
    edges = [edge for edge in _edges() if not _allowed_local(edge)]
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from a.b import c", [("m", "a.b.c")]),
        ("from a.b import x", [("m", "a.b")]),
        ("from .b import c", [("m", "a.b.c")]),
        ("import a.b", [("m", "a.b")]),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a.b", []),
    ],
)
def test_the_graph_resolves_imports_to_modules(
    tmp_path: Path, source: str, expected: list[tuple[str, str]]
) -> None:
    # given a package a with modules a.b and a.b.c, and a module a.m
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "__init__.py").write_text("")
    (tmp_path / "a" / "b" / "__init__.py").write_text("")
    (tmp_path / "a" / "b" / "c.py").write_text("")
    (tmp_path / "a" / "m.py").write_text(source)
    # when
    edges = import_edges(tmp_path, modules_under(tmp_path, ["a"]))
    # then
    got = [(e.source.rpartition(".")[2], e.target) for e in edges]
    assert got == expected


def test_cycles_are_found_and_local_task_imports_allowed() -> None:
    edges = [
        ImportEdge("x.services.a", "x.tasks", 1, local=True),
        ImportEdge("x.tasks", "x.services.a", 2, local=True),
        ImportEdge("y.one", "y.two", 1, local=False),
        ImportEdge("y.two", "y.three", 1, local=True),
        ImportEdge("y.three", "y.one", 1, local=False),
    ]
    kept = [edge for edge in edges if not _allowed_local(edge)]
    assert cycles(kept) == [["y.one", "y.three", "y.two"]]
    assert cycles(edges) == [["x.services.a", "x.tasks"], ["y.one", "y.three", "y.two"]]
