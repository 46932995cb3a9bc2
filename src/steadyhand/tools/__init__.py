"""What agents call: the action APIs and the grounding experts (:mod:`.grounding`)."""
