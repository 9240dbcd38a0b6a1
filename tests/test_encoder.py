"""The shared sentence encoder (helpert/text/encoder.py): the PyPI file's embedding layer under helpert's
fine-tuned six layers (round 23, benchmarks/top_layers_encoder.py), one graph on onnxruntime alone."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from helpert.text import encoder


def test_the_fine_tuned_layers_ship_as_small_int8_files_and_every_data_file_stays_under_5_mb():
    tops = encoder.top_path()
    assert len(tops) == 3 and all(p.is_file() for p in tops)
    for top in tops:
        assert top.stat().st_size < 5_000_000  # two int8 layers each; the 23 MB PyPI file keeps only its embeddings here
    for path in tops[0].parent.iterdir():
        assert path.stat().st_size < 5_000_000, path


def test_the_top_files_hold_all_six_layers_so_the_pypi_file_is_cut_after_its_embeddings():
    import onnx

    layers = sum(sum(n.op_type == "LayerNormalization" for n in onnx.load(str(p)).graph.node) // 2 for p in encoder.top_path())
    assert layers == 6 and encoder.cut_for(layers) == "layer_norm"
    assert encoder.cut_for(2) == "layer_norm_8"  # round 22's two top layers read the fourth layer's output
    with pytest.raises(encoder.EncoderMissing, match="7 layers"):
        encoder.cut_for(7)


def test_the_one_stacked_graph_equals_the_files_run_one_after_another():
    import onnxruntime as ort

    texts = ["I've been stockpiling my tablets.", "Sounds like the week wore you out."]
    tok, _ = encoder._runtime()
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    h = ort.InferenceSession(encoder.lower_layers(encoder.model_path(), "layer_norm")).run(
        None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    for top in encoder.top_path():
        h = ort.InferenceSession(str(top)).run(None, {"hidden": h, "attention_mask": mask})[0]
    states = encoder.token_states(texts)
    for row, s in enumerate(states):
        assert np.allclose(s, h[row, : int(mask[row].sum())], atol=1e-4)


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
    with encoder.override(top=[*encoder.top_path()[:2], tmp_path / "gone.onnx"]), \
            pytest.raises(encoder.EncoderMissing, match="top layers are missing"):
        encoder.embed(["hello there"])


def test_run_time_embedding_needs_no_pytorch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "from helpert.text.encoder import embed\n"
            "print(embed(['a short test sentence']).shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(1, 384)"
