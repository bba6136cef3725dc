"""deploy/grafana-dashboard.json and deploy/prometheus-alerts.yml name only metrics the bot exports
(a renamed metric would leave a panel or an alert silently empty)."""

from __future__ import annotations

import json
import re

import yaml
from prometheus_client import REGISTRY

from index.ops import metrics
from tests.conftest import REPO

NAME = re.compile(r"\b((?:articlebot|process)_[a-z_]+)")
SUFFIXES = ("", "_total", "_bucket", "_count", "_sum", "_info")


def families() -> list[str]:
    """Every family's name: the registry's and the bot state's (read at each scrape)."""
    state = metrics.State(
        generations=(metrics.Generation("operator", "g", "2026-01-01T00:00:00Z", 1, 2),),
        gateway_latency={0: 0.05},
    )
    return [f.name for f in (*REGISTRY.collect(), *metrics.StateCollector(lambda: state).collect())]


def exported() -> set[str]:
    return {name + suffix for name in families() for suffix in SUFFIXES}


def expressions() -> list[str]:
    dashboard = json.loads((REPO / "deploy" / "grafana-dashboard.json").read_text("utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = yaml.safe_load((REPO / "deploy" / "prometheus-alerts.yml").read_text("utf-8"))
    return exprs + [r["expr"] for g in rules["groups"] for r in g["rules"]]


def test_dashboard_and_alerts_name_only_exported_metrics() -> None:
    names = exported()
    used = {m for e in expressions() for m in NAME.findall(e)}
    assert "articlebot_questions_total" in used and "process_resident_memory_bytes" in used
    assert used <= names, f"not exported: {sorted(used - names)}"


def test_every_metric_is_on_the_dashboard() -> None:
    dashboard = (REPO / "deploy" / "grafana-dashboard.json").read_text("utf-8")
    ours = [name for name in families() if name.startswith("articlebot_")]
    assert len(ours) >= 15
    for name in ours:
        assert name in dashboard, f"{name} has no panel"
