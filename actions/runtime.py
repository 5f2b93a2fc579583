"""Where actions find the knowledge base: installed by the server, or built lazily."""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from knowledge.catalog import KbCatalog
from knowledge.records import Records
from knowledge.service import KnowledgeService

_LOGGER = logging.getLogger(__name__)

GAZETTEER_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "seed" / "gazetteer.json"


@dataclass(frozen=True)
class Services:
    """What actions need from the rest of govbot."""

    kb: KnowledgeService
    records: Records
    hotline: str = "12345"
    catalog: Optional[KbCatalog] = None  # built on the KB's engine when not given

    def __post_init__(self) -> None:
        if self.catalog is None:
            object.__setattr__(self, "catalog", KbCatalog(self.kb.engine))


_LOCK = threading.Lock()
_SERVICES: Optional[Services] = None


def install(services: Services) -> None:
    """Called by the server so in-process actions share its index and engine."""
    global _SERVICES
    with _LOCK:
        _SERVICES = services


def uninstall() -> None:
    """Forget the installed services (server shutdown, tests)."""
    global _SERVICES
    with _LOCK:
        _SERVICES = None


class NotInstalled(RuntimeError):
    """Actions ran before their services were installed (use ``govbot serve`` or
    ``govbot actions``, which install them)."""


def services() -> Services:
    """The services the server (or ``govbot actions``) installed.

    Raises:
        NotInstalled: Nothing installed them.
    """
    with _LOCK:
        if _SERVICES is None:
            raise NotInstalled("actions need govbot's services: run them with `govbot serve` "
                               "or `govbot actions`")
        return _SERVICES


_GAZETTEER: Optional[Dict[str, object]] = None


def gazetteer() -> Dict[str, object]:
    """Districts, aliases, departments and service names for validation."""
    global _GAZETTEER
    if _GAZETTEER is None:
        try:
            _GAZETTEER = json.loads(GAZETTEER_PATH.read_text(encoding="utf-8"))
        except FileNotFoundError:
            _LOGGER.warning("gazetteer missing at %s", GAZETTEER_PATH)
            _GAZETTEER = {"districts": [], "district_aliases": {}, "departments": [], "services": []}
    return _GAZETTEER


def districts() -> List[str]:
    """Known district names."""
    return list(gazetteer().get("districts", []))  # type: ignore[arg-type]
