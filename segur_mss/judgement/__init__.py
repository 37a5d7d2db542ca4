"""Judgement logic the steps call: readings of what reached the operator, compared with what a requirement
expects (the steps stay thin: parse the sentence, call these, record the check and its proofs)."""
