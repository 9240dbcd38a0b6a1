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
    feed = encoder.padded(encoder.word_pieces(texts))
    mask = feed["attention_mask"]
    h = ort.InferenceSession(encoder.lower_layers(encoder.model_path(), "layer_norm")).run(None, feed)[0]
    for top in encoder.top_path():
        h = ort.InferenceSession(str(top)).run(None, {"hidden": h, "attention_mask": mask})[0]
    with encoder.override(arithmetic="float"):
        states = encoder.token_states(texts)
    for row, s in enumerate(states):
        assert np.allclose(s, h[row, : int(mask[row].sum())], atol=1e-4)


TEXTS = ["I keep thinking everyone would be better off without me.", "So you're worried about the exam on Friday.",
         "Yes.", "I bought the pills last week and I've been looking up how many it would take.",
         "My manager cut my hours again and I honestly don't know how I'll pay rent this month, it's a mess."]


def test_int8_is_the_default_and_runs_integer_products_on_the_files_own_int8_weights():
    import onnx
    from onnx import numpy_helper

    from helpert.text.int8 import integer_products, weight_products

    assert encoder.arithmetic() == "int8"
    stacked = encoder.stacked_graph(encoder.model_path(), encoder.top_path())
    before = onnx.load_from_string(stacked).graph
    products = weight_products(before)
    assert len(products) == 36  # q, k, v, o, in and out of six layers
    after = onnx.load_from_string(integer_products(stacked)).graph
    ops = [n.op_type for n in after.node]
    assert ops.count("MatMulInteger") == 36 and ops.count("QuantizeLinear") == 24  # q, k and v share one
    weights = {i.name: numpy_helper.to_array(i) for i in after.initializer}
    originals = {i.name: numpy_helper.to_array(i) for i in before.initializer}
    for node in after.node:
        if node.op_type == "MatMulInteger":
            # the file's int8 weights, not requantised: held as uint8 with zero point 128 (the same integers), since
            # onnxruntime's uint8 x int8 kernel saturates on CPUs without VNNI (helpert.text.int8)
            name = node.input[1]
            assert name.endswith("/u8") and weights[name].dtype == np.uint8
            assert np.array_equal(weights[name].astype(np.int16) - 128, originals[name.removesuffix("/u8")])
            assert weights[node.input[3]] == 128


def test_int8_states_stay_close_to_float():
    with encoder.override(arithmetic="float"):
        reference = encoder.token_states(TEXTS)
        ref_emb = encoder.embed(TEXTS)
    states = encoder.token_states(TEXTS)
    emb = encoder.embed(TEXTS)
    assert (emb * ref_emb).sum(1).min() > 0.998
    for s, r in zip(states, reference):
        assert s.shape == r.shape
        assert np.abs(s - r).max() < 0.5 and np.abs(s - r).mean() < 0.03


def test_a_texts_int8_states_do_not_depend_on_the_other_texts_of_its_batch():
    """One scale per token: the reason round 25's per-batch dynamic quantisation was not adopted."""
    alone = [encoder.token_states([t])[0] for t in TEXTS]
    together = encoder.token_states(TEXTS)
    longer = encoder.token_states(TEXTS + ["and a much longer text " * 20])
    for a, b, c in zip(alone, together, longer):
        assert np.allclose(a, b, atol=1e-4) and np.allclose(a, c, atol=1e-4)


@pytest.mark.parametrize("arithmetic", ["int8", "float"])
def test_batches_run_side_by_side_give_each_text_the_states_of_one_run_at_a_time(monkeypatch, arithmetic):
    """More texts than fit the 2n batches in flight, lengths 3 to 128 word pieces, repeats and an empty text."""
    texts = [f"{TEXTS[i % len(TEXTS)]} " + "and then some more words " * (i % 30) for i in range(300)] + [TEXTS[0], ""]
    got = {}
    with encoder.override(arithmetic=arithmetic):
        for n in ("1", "2", "3"):
            monkeypatch.setenv("HELPERT_ENCODER_THREADS", n)
            encoder._cache.clear()
            got[n] = encoder.embed(texts), encoder.token_states(texts)
    for n in ("2", "3"):
        assert np.array_equal(got[n][0], got["1"][0])
        assert all(np.array_equal(a, b) for a, b in zip(got[n][1], got["1"][1]))
    assert len({len(s) for s in got["1"][1]}) > 20 and not got["1"][0][-1].any()


def test_the_encoders_thread_count_must_be_a_number(monkeypatch):
    monkeypatch.setenv("HELPERT_ENCODER_THREADS", "two")
    with pytest.raises(encoder.EncoderMissing, match="whole number"):
        encoder.workers()
    monkeypatch.setenv("HELPERT_ENCODER_THREADS", "0")
    assert encoder.workers() == 1


def test_an_unknown_arithmetic_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HELPERT_ENCODER_ARITHMETIC", "fp16")
    with pytest.raises(encoder.EncoderMissing, match="int8, float"):
        encoder.arithmetic()
    with pytest.raises(ValueError, match="arithmetic must be one of"):
        with encoder.override(arithmetic="bf16"):
            pass


def test_the_outlier_channels_come_with_their_provenance():
    import json

    from helpert.text.int8 import OUTLIERS, load_outliers

    doc = json.loads(OUTLIERS.read_text())
    assert doc["made_by"].startswith("benchmarks/int8_encoder.py") and "counselchat" in doc["data"]
    channels = load_outliers()
    assert "layer_norm" in channels and all(len(v) <= 16 for v in channels.values())
    assert load_outliers(OUTLIERS.parent / "missing.json") == {}


def test_a_graph_without_weight_only_products_is_left_as_it_is():
    from onnx import TensorProto, helper

    from helpert.text.int8 import integer_products

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph).SerializeToString()
    assert integer_products(model) == model


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
    assert encoder.arithmetic() == "int8"


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


def test_the_word_table_is_looked_up_in_int8_and_only_the_rows_read_become_floats():
    """gather_rows_first: no node of the graph turns the whole 30,522-row table into floats (onnxruntime would
    fold that into a 47 MB float copy), and the states are the same, bit for bit, as with the table dequantised."""
    import onnx
    import onnxruntime as ort

    graph = onnx.load_from_string(encoder.stacked_graph(encoder.model_path(), encoder.top_path()))
    tables = {i.name for i in graph.graph.initializer if list(i.dims) == [30522, 384]}
    assert tables and all(n.input[0] not in tables for n in graph.graph.node if n.op_type == "Cast")
    assert any(n.op_type == "Gather" and n.input[0] in tables for n in graph.graph.node)

    plain = onnx.load_from_string(encoder.lower_layers(encoder.model_path(), "layer_norm"))
    rewritten = onnx.load_from_string(encoder.lower_layers(encoder.model_path(), "layer_norm"))
    assert encoder.gather_rows_first(rewritten) == 2  # word and position tables; token types are float already
    assert encoder.gather_rows_first(rewritten) == 0
    feed = encoder.padded(encoder.word_pieces(TEXTS))
    before = ort.InferenceSession(plain.SerializeToString()).run(None, feed)[0]
    after = ort.InferenceSession(rewritten.SerializeToString()).run(None, feed)[0]
    assert np.array_equal(before, after)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status; malloc_trim is glibc's")
def test_building_the_session_hands_the_graphs_building_memory_back():
    """The encoder's session costs a process far less than building its graph did (onnx protobufs, freed and
    returned by malloc_trim): measured in a fresh process, resident memory after the session is built."""
    code = ("import onnx, onnxruntime, tokenizers, numpy\n"
            "def rss():\n"
            "    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) // 1024\n"
            "base = rss()\n"
            "from helpert.text import encoder\n"
            "encoder.load()\n"
            "print(base, rss(), int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) // 1024)")
    base, after, peak = map(int, subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                check=True).stdout.split())
    assert peak - base > 100  # building the graph does take that much for a moment
    assert after - base < 110, (base, after, peak)  # 75 MB on 2026-12-05; 195 MB before the lookup and trim
