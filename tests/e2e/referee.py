"""The referee: why Discord would reject a message body, or why we would regret sending it."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def message_problems(body: Json) -> list[str]:
    """Why Discord would reject (or we would regret) this message body: limits and mentions."""
    problems: list[str] = []
    content = body.get("content") or ""
    if len(content) > 2000:
        problems.append(f"content has {len(content)} characters (limit 2000)")
    total = 0
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append(f"{len(embeds)} embeds (limit 10)")
    for embed in embeds:
        total += _embed_problems(embed, problems)
    if total > 6000:
        problems.append(f"embeds have {total} characters in all (limit 6000)")
    for row in body.get("components") or []:
        buttons = row.get("components", [])
        if len(buttons) > 5:
            problems.append(f"{len(buttons)} components in one row (limit 5)")
        for button in buttons:
            if len(button.get("label") or "") > 80:
                problems.append(f"button label {button['label']!r} over 80 characters")
            if len(button.get("custom_id") or "") > 100:
                problems.append("custom_id over 100 characters")
            problems.extend(_select_problems(button, len(buttons)))
    if len(body.get("components") or []) > 5:
        problems.append("more than 5 action rows")
    if ("content" in body or "embeds" in body) and not _mentions_none(body):
        problems.append(f"allowed_mentions would ping: {body.get('allowed_mentions')!r}")
    return problems


def _select_problems(component: Json, in_row: int) -> list[str]:
    """A string select: alone in its row, 1-25 options of at most 100 characters each."""
    if component.get("type") != 3:
        return []
    problems = [] if in_row == 1 else ["a select menu shares its action row"]
    options = component.get("options") or []
    if not 1 <= len(options) <= 25:
        problems.append(f"select menu with {len(options)} options (1-25)")
    for option in options:
        for key in ("label", "value", "description"):
            if len(option.get(key) or "") > 100:
                problems.append(f"select option {key} over 100 characters")
        if not option.get("label") or not option.get("value"):
            problems.append("select option without a label or value")
    return problems


def _mentions_none(body: Json) -> bool:
    allowed = body.get("allowed_mentions")
    if not isinstance(allowed, dict) or allowed.get("parse") != []:
        return False
    return not (allowed.get("users") or allowed.get("roles") or allowed.get("replied_user"))


def _embed_problems(embed: Json, problems: list[str]) -> int:
    limits = {"title": 256, "description": 4096}
    total = 0
    for key, limit in limits.items():
        text = embed.get(key) or ""
        total += len(text)
        if len(text) > limit:
            problems.append(f"embed {key} has {len(text)} characters (limit {limit})")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        problems.append(f"{len(fields)} embed fields (limit 25)")
    for f in fields:
        name, value = f.get("name") or "", f.get("value") or ""
        total += len(name) + len(value)
        if not name or not value:
            problems.append("embed field with an empty name or value")
        if len(name) > 256 or len(value) > 1024:
            problems.append(f"embed field over its limit ({len(name)}/256, {len(value)}/1024)")
    footer = (embed.get("footer") or {}).get("text") or ""
    total += len(footer)
    if len(footer) > 2048:
        problems.append(f"embed footer has {len(footer)} characters (limit 2048)")
    return total
