"""TTS stacks behind one small protocol, found by name or entry point."""
from __future__ import annotations

from .base import Stack, StackError, StackUnavailable, available_stacks, get_stack

__all__ = ["Stack", "StackError", "StackUnavailable", "available_stacks", "get_stack"]
