"""Text features and model runtimes that more than one stage uses: normalisation and sentence splitting
(:mod:`.features`), the linear-model bundle (:mod:`.linear`), the shared MiniLM encoder (:mod:`.encoder`,
onnxruntime, no PyTorch) and the lexicon helpers (:mod:`.lexicon`). It sits below every stage of the flow
(load -> replay -> label -> measure -> compare -> report) and imports none of them: the crisis detector
(:mod:`helpert.safety`, read by the replay graph's router) and the labellers (:mod:`helpert.label`) both
build on it.
"""
