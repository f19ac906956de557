"""Internals of the judgement engine; the public face is :mod:`klopt.judging.judge`."""
