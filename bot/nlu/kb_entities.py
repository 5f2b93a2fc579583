"""A Rasa entity extractor: spaCy zh (jieba segmenter) + EntityRuler with patterns from the KB."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_LOGGER = logging.getLogger(__name__)

PATTERNS_FILE = "patterns.jsonl"
LABELS = ("service", "department", "district")


def build_nlp(patterns: List[Dict[str, Any]]) -> Any:
    """A blank Chinese spaCy pipeline using jieba, with an EntityRuler over ``patterns``."""
    import jieba
    import spacy
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    for pattern in patterns:
        if isinstance(pattern.get("pattern"), str):
            jieba.add_word(pattern["pattern"], freq=2000)  # keep phrases whole for the ruler
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(patterns)
    return nlp


def read_patterns(path: Path) -> List[Dict[str, Any]]:
    """Patterns from a JSONL file (``{"label","pattern","id"?}`` per line)."""
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row.get("label") in LABELS and row.get("pattern"):
                patterns.append(row)
    return patterns


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class KbEntityRuler(GraphComponent, EntityExtractorMixin):
    """Extracts service, department and district entities by phrase rules."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """``patterns_path``: JSONL written by ``govbot train`` from the knowledge base."""
        return {"patterns_path": None}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 patterns: Optional[List[Dict[str, Any]]] = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._patterns = patterns or []
        self._nlp = build_nlp(self._patterns) if self._patterns else None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "KbEntityRuler":
        """Create an untrained component."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Read the KB-generated patterns and persist them with the model."""
        path = self._config.get("patterns_path")
        patterns = read_patterns(Path(path)) if path and Path(path).is_file() else []
        if not patterns:
            _LOGGER.warning("no entity patterns at %s; entity ruler will be empty", path)
        with self._model_storage.write_to(self._resource) as directory:
            with (directory / PATTERNS_FILE).open("w", encoding="utf-8") as fh:
                for pattern in patterns:
                    fh.write(json.dumps(pattern, ensure_ascii=False) + "\n")
        self._patterns = patterns
        self._nlp = build_nlp(patterns) if patterns else None
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "KbEntityRuler":
        """Load the persisted patterns."""
        try:
            with model_storage.read_from(resource) as directory:
                patterns = read_patterns(directory / PATTERNS_FILE)
        except (ValueError, FileNotFoundError):
            patterns = []
        return cls(config, model_storage, resource, patterns)

    def process(self, messages: List[Message]) -> List[Message]:
        """Add entities found by the ruler to each message."""
        if self._nlp is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            doc = self._nlp(text[:2000])
            found = [{"entity": ent.label_, "value": ent.ent_id_ or ent.text, "start": ent.start_char,
                      "end": ent.end_char, "confidence_entity": 1.0} for ent in doc.ents]
            if found:
                found = self.add_extractor_name(found)
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples keep only their own annotations."""
        return training_data
