"""Stand-in for ``linacodec.vocoder`` (see the package docstring)."""
