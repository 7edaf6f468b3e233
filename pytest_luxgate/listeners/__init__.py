"""Listeners: models that hear a clip and say where its speech is (VAD), used by the metrics."""
