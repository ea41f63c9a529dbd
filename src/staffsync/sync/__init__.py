"""The sync engine: the one orchestration of fetch, plan, safeguards and apply."""
