"""A jieba tokenizer that folds width, case and Traditional characters before segmenting."""
from __future__ import annotations

import logging
import unicodedata
from typing import List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from knowledge.normalize import to_simplified

_LOGGER = logging.getLogger(__name__)


def fold_text(text: str) -> str:
    """Full-width to half-width, lower case and Traditional to Simplified, keeping the length.

    Every character maps to exactly one character, so token offsets stay valid for the
    original text (entity spans, regexes). A character whose folded form would change the
    length (NFKC of "㈠" is "(一)") is kept as it is; if OpenCC changes the length of the whole
    text, only the per-character folding is used.

    Args:
        text: The resident's message.

    Returns:
        Text of the same length, ready for segmentation and features.
    """
    chars = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch).lower()
        chars.append(folded if len(folded) == 1 else ch)
    narrow = "".join(chars)
    simplified = to_simplified(narrow)
    return simplified if len(simplified) == len(narrow) else narrow


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class FoldingJiebaTokenizer(JiebaTokenizer):
    """Rasa's ``JiebaTokenizer`` on folded text: "你們好", "ＡＰＰ" and "app" give the same tokens
    as their Simplified, half-width, lower-case forms, so features learnt from training examples
    apply to residents who type Traditional characters or full-width letters and digits."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Segment the folded text; offsets refer to the original text."""
        import jieba

        text = fold_text(message.get(attribute) or "")
        tokens = [Token(word, start) for word, start, _ in jieba.tokenize(text)]
        return self._apply_token_pattern(tokens)
