"""Hugging Face datasets: ``hf://datasets/OWNER/NAME/PATH`` files pinned by revision and sha256.

:mod:`~dmconf.huggingface.hub` knows the hub: its endpoint (``HF_ENDPOINT``), the user's token
(read as ``huggingface_hub`` reads it), ``hf://`` URLs and the resolve and tree endpoints;
:mod:`~dmconf.huggingface.importer` turns a repository at one commit into a definition. The
bytes are fetched by :mod:`dmconf.fetch.hf`, like any other URL (resumed, verified, locked).
"""
