"""Regression baselines: each cell's metrics against a committed syrupy snapshot.

The absolute checks (`test_wer`, `test_start`, ...) say whether a take is good
enough; a baseline says whether it got *worse* than it was. `test_baseline`
stores, per cell (stack, prompt, scenario[, platform]), the numbers that
matter in one small JSON file under the test module's ``__snapshots__``
(syrupy's ``--snapshot-dirname`` moves it), and compares later runs with a
tolerance per metric. Only a change in the bad direction by more than the
tolerance fails; a change for the better by more than the tolerance is
reported (terminal summary, report.json, SUMMARY.md) and passes. syrupy's own
``--snapshot-update`` rewrites the files; its xdist support and unused-snapshot
bookkeeping apply unchanged.

Tolerances (``atol + rtol * |baseline|``) are sized for what legitimately
moves a take between machines and library builds while the model is the same
(see METRICS for each row's reason): Whisper's beam search under another
library build can flip one word (int8 kernels did between CPUs); word timestamps
and VAD frames move edges by tens of milliseconds; levels far below the speech (dB re speech under FLOOR) are
inaudible and swing freely with float noise, so both sides are clamped to the
metric's floor before comparing. Scenario files (``[baseline]``), ini and the
command line (``luxgate_baseline_tolerance``) override them.

Nothing here runs models; the comparison is a pure function of two entries.
"""
