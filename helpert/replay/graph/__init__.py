"""The LangGraph state machine compiled from a protocol: state, prompts, router, builder."""
