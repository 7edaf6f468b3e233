"""This repository's own wiring: pytester for the plugin's tests.

The luxgate plugin itself is activated by its pytest11 entry point once the
package is installed (`pip install -e .`), exactly as users get it.
"""
pytest_plugins = ["pytester"]
