"""Open the database, migrate it, seed an empty one, and build the services on top."""
from __future__ import annotations

import logging
from typing import Tuple

from sqlalchemy.engine import Engine

from bot.settings import Settings
from knowledge.db import make_engine, upgrade
from knowledge.records import Records
from knowledge.seed import load_seed
from knowledge.service import KnowledgeService

_LOGGER = logging.getLogger(__name__)


def prepare_database(settings: Settings, seed: bool = True) -> Engine:
    """Migrate the database to head; load the seed KB if it has no entries yet."""
    settings.apply()
    settings.ensure_dirs()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    if seed:
        kb = KnowledgeService(engine)
        if kb.count() == 0:
            _LOGGER.info("empty knowledge base: loading the seed entries")
            load_seed(kb, Records(engine))
    return engine


def open_services(settings: Settings, engine: Engine = None) -> Tuple[KnowledgeService, Records]:
    """A KnowledgeService with its index built, and the Records helper, on one engine
    (``engine`` comes from ``prepare_database``, which has handed the settings down)."""
    engine = engine or prepare_database(settings)
    kb = KnowledgeService(engine, poll_seconds=settings.kb_poll_seconds,
                          thresholds=settings.thresholds)
    kb.load_index()
    return kb, Records(engine)
