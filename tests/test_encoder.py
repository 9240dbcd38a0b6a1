"""The shared sentence encoder (helpert/text/encoder.py): the PyPI file's lower layers under helpert's
fine-tuned top layers (round 22, benchmarks/top_layers_encoder.py), on onnxruntime alone."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from helpert.text import encoder


def test_top_layers_ship_as_a_small_int8_file_and_every_data_file_stays_under_5_mb():
    top = encoder.top_path()
    assert top is not None and top.is_file()
    assert top.stat().st_size < 5_000_000  # two int8 layers; the 23 MB lower file comes from PyPI
    for path in top.parent.iterdir():
        assert path.stat().st_size < 5_000_000, path


def test_the_stack_is_what_embed_runs_and_differs_from_the_pypi_file_alone():
    texts = ["I keep thinking everyone would be better off without me.", "So you're worried about the exam on Friday."]
    stacked = encoder.embed(texts)
    assert np.allclose(np.linalg.norm(stacked, axis=1), 1.0, atol=1e-5)
    with encoder.override(top=None):
        alone = encoder.embed(texts)
    cosines = (stacked * alone).sum(1)
    # fine-tuned, not replaced: the same texts stay close to where the PyPI model puts them, but moved
    assert np.all(cosines > 0.5) and np.all(cosines < 0.999), cosines
    assert np.allclose(encoder.embed(texts), stacked, atol=1e-6)  # back on the stack once restored


def test_a_pypi_file_without_the_cut_gets_a_clear_error(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    path = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(encoder.EncoderMissing, match="layer_norm_8"):
        encoder.lower_layers(path)


def test_a_missing_top_file_is_a_clear_error_not_a_silent_fallback(tmp_path):
    with encoder.override(top=tmp_path / "gone.onnx"), pytest.raises(encoder.EncoderMissing, match="top layers are missing"):
        encoder.embed(["hello there"])


def test_run_time_embedding_needs_no_pytorch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "from helpert.text.encoder import embed\n"
            "print(embed(['a short test sentence']).shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(1, 384)"
