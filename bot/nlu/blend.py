"""Intent ensemble: DIET's ranking averaged with a logistic regression on the same features."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

_LOGGER = logging.getLogger(__name__)


def blend_rankings(previous: List[Dict[str, Any]], classes: List[str], probas: List[float],
                   weight: float) -> List[Dict[str, Any]]:
    """``weight * previous + (1 - weight) * probas`` per intent, best first.

    Args:
        previous: The earlier classifier's ranking (``{"name", "confidence"}``); intents it
            left out count as 0.
        classes: The logistic regression's intents, in the order of ``probas``.
        probas: Its probabilities.
        weight: Share of the earlier classifier, 0..1.

    Returns:
        The blended ranking over all intents either classifier knows.
    """
    before = {r["name"]: float(r.get("confidence") or 0.0) for r in previous or []}
    after = dict(zip(classes, (float(p) for p in probas)))
    if not before:
        weight = 0.0
    names = list(dict.fromkeys([*after, *before]))
    ranking = [{"name": n, "confidence": weight * before.get(n, 0.0)
                + (1.0 - weight) * after.get(n, 0.0)} for n in names]
    return sorted(ranking, key=lambda r: -r["confidence"])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedLogisticRegression(LogisticRegressionClassifier):
    """Rasa's ``LogisticRegressionClassifier`` placed after ``DIETClassifier``: instead of
    replacing DIET's intent it averages the two rankings.

    DIET's softmax is sharp and sometimes confidently wrong on short or unusual phrasings; the
    linear model is smoother and errs elsewhere, so the average is right more often than either
    (cross-validated with ``make nlu-report``). Configure ``C`` (inverse regularisation) and
    ``weight`` (DIET's share).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Rasa's defaults plus ``C`` and ``weight``."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0, "weight": 0.5}

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage,
                 resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))

    def process(self, messages: List[Message]) -> List[Message]:
        """Replace each message's intent and ranking by the blend."""
        if not messages or not hasattr(self.clf, "classes_"):
            return messages
        probas = self.clf.predict_proba(self._create_X(messages))
        classes = [str(c) for c in self.clf.classes_]
        length = int(self.config.get("ranking_length") or 0)
        for message, row in zip(messages, probas):
            ranking = blend_rankings(message.get(INTENT_RANKING_KEY) or [], classes, list(row),
                                     float(self.config["weight"]))
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking,
                        add_to_output=True)
        return messages
