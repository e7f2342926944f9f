"""HTTP API (FastAPI). Built by :func:`lexo.api.app.create_app`."""
