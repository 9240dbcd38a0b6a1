"""Crisis risk in client turns, before any stage that needs it: the tiered detector (:mod:`.risk`), which the
replay graph's router reads while a session is replayed and the safety labels and metrics read afterwards,
and ``helpert screen`` (:mod:`.screen`), which screens transcripts without a model. It imports only
:mod:`helpert.text` and the session model, so replaying does not depend on labelling code and labelling
does not depend on replay code.
"""
