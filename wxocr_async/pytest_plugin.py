"""pytest plugin: fixtures ``wxocr_emulator`` and ``wxocr_client`` (to be written)."""
