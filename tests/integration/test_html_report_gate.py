"""The luxgate_html ini key turns the page off; bad --luxgate-html-* values are usage errors."""
from __future__ import annotations

import pytest
from pytester_gate import run_gate


def test_ini_key_turns_the_page_off_and_bad_options_are_usage_errors(pytester: pytest.Pytester) -> None:
    bad = run_gate(pytester, "--luxgate-html-audio=mp3")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--luxgate-html-audio must be one of embed|link, got 'mp3'*"])
    pytester.makeini("[pytest]\nluxgate_html = none\n")
    res = run_gate(pytester, "--luxgate-scenario=short_plain", "-k", "clipping")
    assert res.ret == pytest.ExitCode.OK
    assert (pytester.path / "out" / "report.json").is_file()
    assert not (pytester.path / "out" / "report.html").exists()
    assert "luxgate: html" not in res.stdout.str()
