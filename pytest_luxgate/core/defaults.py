"""Defaults the pytest plugin, `luxgate check` and `luxgate tune` share."""

#: the ASR that judges every take unless --luxgate-asr / --asr names another
DEFAULT_ASR = "faster-whisper:base"
#: the seed of every take unless --luxgate-seed names another (recorded in each cell)
DEFAULT_SEED = 1234
