"""Faster Rasa model loading for serving: build TF weights by a forward pass instead of ``fit``."""
from __future__ import annotations

import logging
from typing import Any, Optional

_LOGGER = logging.getLogger(__name__)

_PATCHED = False


def patch_rasa_model_load() -> None:
    """Make ``RasaModel.load`` skip its one-step ``fit`` when the model is loaded for inference.

    Rasa 3.6 builds a model's variables by training it for one step on one example before it
    restores the saved weights. Tracing that training step is most of a cold start (about 20 s
    of 40 s here for DIET and TED). For inference the forward pass builds the same variables;
    the TF-format checkpoint is then restored by object path (optimizer slots, never needed
    for prediction, stay unrestored), and the cached label embeddings and the traced predict
    function are rebuilt with the restored weights. Fine-tuning keeps Rasa's path.
    ``tests/bot/test_fastload.py`` checks that predictions are identical to Rasa's own load.
    """
    global _PATCHED
    if _PATCHED:
        return
    from rasa.utils.tensorflow.models import RasaModel
    import tensorflow as tf

    original = RasaModel.load.__func__

    def load(cls: Any, model_file_name: str, model_data_example: Any,
             predict_data_example: Optional[Any] = None, finetune_mode: bool = False,
             *args: Any, **kwargs: Any) -> Any:
        if finetune_mode or predict_data_example is None:
            return original(cls, model_file_name, model_data_example, predict_data_example,
                            finetune_mode, *args, **kwargs)
        model = cls(*args, **kwargs)
        config = kwargs.get("config", {})
        model.compile(optimizer=tf.keras.optimizers.Adam(config.get("learning_rate", 0.001)),
                      run_eagerly=config.get("run_eagerly"))
        model.run_inference(predict_data_example)  # builds every variable prediction uses
        status = model.load_weights(model_file_name)
        status.assert_existing_objects_matched()
        status.expect_partial()  # optimizer slots are not needed for prediction
        # The first pass cached label embeddings and traced a graph with the random initial
        # weights; recompute them and retrace with the restored weights.
        model.prepare_for_predict()
        model.prepared_for_prediction = True
        model._tf_predict_step = None
        model.run_inference(predict_data_example)
        return model

    RasaModel.load = classmethod(load)
    _PATCHED = True
    _LOGGER.debug("RasaModel.load patched for inference-only loading")
