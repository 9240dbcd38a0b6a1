"""The safety policies of the replay graph's router and ``helpert screen``, and the default one: the single
place they are written. Kept apart from :mod:`helpert.safety.risk`, which compiles its lexicon on import,
so that the CLI options, replay, batch, simulate and the fairness probe read them without loading it.

``stepped`` (the default): tiers crisis / check / none from the phrases, the encoder score and the
context (:func:`helpert.safety.risk.assess_turns`); the others send every turn one detector flags to the
full safety response (``lexicon``: the phrases alone; ``balanced``, ``high``, ``screen``: the phrases OR
the learned model at rising sensitivity).
"""

SENSITIVITIES = ("lexicon", "balanced", "high", "screen")
STEPPED = "stepped"
SAFETY_POLICIES = (STEPPED, *SENSITIVITIES)
DEFAULT_POLICY = STEPPED
