"""Features that say how well a passage or a sentence answers a question, and the small linear models
(learned on part of squad1, shipped as JSON in index/data/) that weigh them.

Everything here is cheap at question time: sentences' and titles' terms (index/segments/term_rows.py) and
sentence vectors were computed at index time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"  # index/data

_YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2}|[1-9][0-9]{0,2} ?(?:BC|AD|BCE|CE))s?\b")
_TIME = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|century|centuries|decade|\d+(?:st|nd|rd|th))\b",
    re.IGNORECASE,
)
_NUMBER_WORD = re.compile(
    r"\d+(?:[.,]\d+)*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|hundred|thousand|million|billion|trillion|dozen|half|several)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(r"[$£€¥%]|\b(?:per ?cent|percent|dollars?|pounds?|euros?)\b", re.IGNORECASE)
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'-]+")
# On ASCII text a case-insensitive pattern matches where its lower-case form matches the lower-cased
# text (only A-Z change case), and Python's re runs that about twice as fast.
_TIME_ASCII = re.compile(_TIME.pattern.lower())
_NUMBER_WORD_ASCII = re.compile(_NUMBER_WORD.pattern.lower())
_MONEY_ASCII = re.compile(_MONEY.pattern.lower())


@dataclass(frozen=True)
class Signals:
    """What a sentence offers, independent of the question."""

    year: bool
    time: bool
    number: bool
    money: bool
    capitals: frozenset[str]  # lower-cased capitalized words past the sentence start
    numbers: frozenset[str]  # digit groups and number words


def signals(text: str, qtype: str | None = None) -> Signals:
    """The sentence's signals; for a question of type ``qtype`` only those ``type_match`` reads for
    it (year and time for "time", money for "quantity"; the others are left False), which spares a
    question two or three regex passes per candidate sentence."""
    when = qtype in (None, "time")
    cash = qtype in (None, "quantity")
    if text.isascii():
        low = text.lower()
        time = when and bool(_TIME_ASCII.search(low))
        money = cash and bool(_MONEY_ASCII.search(low))
        numbers = frozenset(_NUMBER_WORD_ASCII.findall(low))
    else:
        time = when and bool(_TIME.search(text))
        money = cash and bool(_MONEY.search(text))
        numbers = frozenset(m.group().lower() for m in _NUMBER_WORD.finditer(text))
    return Signals(
        year=when and bool(_YEAR.search(text)),
        time=time,
        number=bool(numbers),  # a digit or a number word: where a number group starts
        money=money,
        capitals=frozenset(m.group().lower() for m in _CAPITAL.finditer(text.strip())),
        numbers=numbers,
    )


def type_match(qtype: str, sig: Signals, q_words: set[str]) -> tuple[float, float, float, float]:
    """(quantity, time, person/place, other) match of the question's type with the sentence."""
    new_names = bool(sig.capitals - q_words)
    new_numbers = bool(sig.numbers - q_words)
    return (
        float(qtype == "quantity" and (new_numbers or sig.money)),
        float(qtype == "time" and (sig.year or sig.time)),
        float(qtype in ("person", "place") and new_names),
        float(qtype == "other" and new_names),
    )


class LinearModel:
    """A logistic model over named features: standardize, dot, add bias."""

    def __init__(self, names: Sequence[str], weights: Sequence[float], bias: float,
                 mean: Sequence[float], scale: Sequence[float]) -> None:  # fmt: skip
        self.names = tuple(names)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.bias = float(bias)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    def logit(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def columns(self, x: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """The columns of ``x`` (named ``names``) this model reads, in its order: a model trained
        before a feature was added keeps working."""
        if tuple(names) == self.names:
            return x
        return x[:, [list(names).index(n) for n in self.names]]

    def prob(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.names),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "mean": [round(float(m), 6) for m in self.mean],
            "scale": [round(float(s), 6) for s in self.scale],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> LinearModel:
        return cls(
            data["features"],  # type: ignore[arg-type]
            data["weights"],  # type: ignore[arg-type]
            data["bias"],  # type: ignore[arg-type]
            data["mean"],  # type: ignore[arg-type]
            data["scale"],  # type: ignore[arg-type]
        )


_OVERRIDES: dict[str, LinearModel | None] = {}


def override_model(name: str, model: LinearModel | None) -> None:
    """Use ``model`` (None: the hand-set fallback) instead of the shipped file; for training."""
    _OVERRIDES[name] = model


def load_model(name: str) -> LinearModel | None:
    """index/data/<name>.json, or None when it is not there (the hand-set weights then apply)."""
    if name in _OVERRIDES:
        return _OVERRIDES[name]
    return _load_file(name)


@lru_cache(maxsize=8)
def _load_file(name: str) -> LinearModel | None:
    path = DATA_DIR / f"{name}.json"
    if not path.is_file():
        return None
    return LinearModel.from_json(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=8)
def model_threshold(name: str, default: float) -> float:
    """The abstention threshold stored beside model ``name`` (its "threshold" field), else ``default``."""
    path = DATA_DIR / f"{name}.json"
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["threshold"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
