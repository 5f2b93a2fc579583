"""Faster Rasa model loading for serving: build TF weights by a forward pass instead of ``fit``."""
from __future__ import annotations

import logging
import sys
from typing import Any, Optional

_LOGGER = logging.getLogger(__name__)

_PATCHED = False


def skip_jax() -> None:
    """Keep ``import tensorflow`` from importing JAX (a TF 2.12 dependency, 300 MB on disk).

    ``tensorflow.lite.python.util`` imports ``jax.xla_computation`` if it can, only to convert
    JAX functions to TFLite, which govbot never does; TF handles the ImportError itself. Loading
    jaxlib cost 0.2-0.8 s of every start with a warm file cache, more with a cold one. Call this
    before anything imports TensorFlow; a process that already imported JAX keeps it.
    """
    sys.modules.setdefault("jax", None)  # None in sys.modules makes `import jax` raise


_SKLEARN_SKIP = {"tests", "externals", "setup", "conftest", "enable_hist_gradient_boosting"}


def _imported_estimators(type_filter=None) -> list:
    """``sklearn.utils.all_estimators()`` over the sklearn modules already imported (the same
    module and class filters), without importing every sklearn module to find them."""
    import inspect

    from sklearn.base import BaseEstimator

    found = set()
    for name, module in list(sys.modules.items()):
        if (module is None or not name.startswith("sklearn.") or "._" in name
                or any(part in _SKLEARN_SKIP for part in name.split("."))):
            continue
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if (not cls_name.startswith("_") and cls_name != "BaseEstimator"
                    and issubclass(cls, BaseEstimator)
                    and not getattr(cls, "__abstractmethods__", None)):
                found.add((cls_name, cls))
    return sorted(found, key=lambda item: item[0])


def fast_skops_import() -> None:
    """Import ``skops.io`` without its 3.5 s scan of every scikit-learn module.

    At import, ``skops.io._trusted_types`` lists the types it trusts by calling
    ``sklearn.utils.all_estimators()``, which imports all of scikit-learn. Rasa's
    LogisticRegressionClassifier loads through skops, so every start paid for it. During that
    import this lists only the estimators of modules already imported (with
    ``sklearn.linear_model``, the one govbot's model persists): a subset of skops' own list, so
    loading can only get stricter, never trust more. A process that imported skops keeps it.
    """
    if "skops.io" in sys.modules:
        return
    import sklearn.linear_model  # noqa: F401  (LogisticRegression must be trusted)
    import sklearn.utils

    original = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = _imported_estimators
    try:
        import skops.io  # noqa: F401
    finally:
        sklearn.utils.all_estimators = original


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
