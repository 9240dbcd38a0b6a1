"""Probes: controlled variations of sessions that test the LLM counselor for unwanted sensitivity."""
