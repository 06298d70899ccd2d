"""Runnable examples; a package so that ``uvicorn examples.fastapi_app:app`` works from the
repository's root."""
