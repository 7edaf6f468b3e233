"""What a tune leaves in its output directory: the file names it owns (the Store may replace
or remove only these) and the headroom kept for the final report."""
from __future__ import annotations

PARAMS_FILE, REPORT_FILE, SUMMARY_FILE, HISTORY_FILE, WAV_DIR = (
    "tuned-params.toml", "tune-report.json", "TUNE.md", "history.jsonl", "wavs")
OWNED = (PARAMS_FILE, REPORT_FILE, SUMMARY_FILE, HISTORY_FILE, WAV_DIR)
#: bytes kept free beyond the current report files, for the final one (stop reason, last round)
REPORT_SLACK = 4096
