"""Shared knowledge: language detection, the embedders, the aspect library."""
