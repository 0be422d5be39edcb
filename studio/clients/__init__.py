"""Clients of the external services (ComfyUI, Ollama, Echo, ...): plain async code, no Dagster.

The Dagster resources in resources/ hand these out (`get_client()`), and the review service uses
them directly, so the API process never imports Dagster.
"""
