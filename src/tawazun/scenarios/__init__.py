"""Cross-impact balance (CIB) scenario analysis: model, engine (``cib``) and file I/O."""

from tawazun.scenarios.model import ScenariosSection, check, to_arrays

__all__ = ["ScenariosSection", "check", "to_arrays"]
