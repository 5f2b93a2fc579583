"""The inference-only model load gives exactly Rasa's own predictions."""
from __future__ import annotations

import asyncio
import os

import pytest

pytestmark = pytest.mark.slow

MESSAGES = ["社保卡丢了怎么补办", "你好", "要带什么材料", "2", "转人工", "我要投诉", "慢一点",
            "今天天气怎么样", "谢谢", "SB202611200001", "在哪里办", "第二个"]


def _parse_all(agent) -> list:
    async def run():
        out = []
        for text in MESSAGES:
            parsed = await agent.parse_message(text)
            out.append((parsed["intent"]["name"], round(parsed["intent"]["confidence"], 5),
                        [round(r["confidence"], 5) for r in parsed["intent_ranking"][:5]]))
        return out
    return asyncio.run(run())


def test_fast_load_predicts_exactly_like_rasa(trained_model):
    from rasa.core.agent import Agent
    from rasa.utils.tensorflow.models import RasaModel
    original_load = RasaModel.__dict__["load"]
    from bot import fastload
    if fastload._PATCHED:  # another test patched it already: restore Rasa's own first
        pytest.skip("RasaModel.load already patched in this process")
    reference = _parse_all(Agent.load(str(trained_model)))
    fastload.patch_rasa_model_load()
    try:
        assert RasaModel.__dict__["load"] is not original_load
        fast = _parse_all(Agent.load(str(trained_model)))
    finally:
        RasaModel.load = original_load
        fastload._PATCHED = False
    assert fast == reference
    assert reference[0][0] == "ask_service"


def _imports_after_tensorflow(code: str) -> set:
    import json
    import subprocess
    import sys

    script = (f"import sys\n{code}\nimport tensorflow as tf\n"
              "assert tf.lite.TFLiteConverter is not None\n"
              "import json; print(json.dumps(sorted(m for m in sys.modules "
              "if m.split('.')[0] in ('jax', 'jaxlib'))))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_skip_jax_keeps_jaxlib_out_of_tensorflow():
    # The pinned TensorFlow pulls JAX in through tf.lite; skip_jax() keeps it out, and TF
    # (tf.lite included) still works.
    assert "jaxlib" in _imports_after_tensorflow("")
    assert not _imports_after_tensorflow("from bot.fastload import skip_jax; skip_jax()") - {"jax"}


def test_fast_skops_import_trusts_a_subset_that_holds_our_model(trained_model, tmp_path):
    import json
    import subprocess
    import sys
    import tarfile

    with tarfile.open(trained_model) as tar:
        tar.extractall(tmp_path)
    skops_files = [str(p) for p in tmp_path.rglob("*.skops")]
    assert skops_files
    script = ("import json, sys\n"
              "from bot.fastload import fast_skops_import\n"
              "fast_skops_import()\n"
              "import skops.io as sio\n"
              f"assert all(not sio.get_untrusted_types(file=f) for f in {skops_files!r})\n"
              "from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES as fast\n"
              "from sklearn.utils import all_estimators\n"
              "from skops.io._utils import get_type_name\n"
              "full = [get_type_name(c) for _, c in all_estimators()]\n"
              "print(json.dumps([sorted(fast), sorted(full)]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    fast, full = map(set, json.loads(out.stdout.strip().splitlines()[-1]))
    assert "sklearn.linear_model._logistic.LogisticRegression" in fast
    assert fast <= full and len(fast) < len(full)
