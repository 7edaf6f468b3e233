"""Pure metric functions: text (WER, repeats), and later audio metrics."""
