"""debugging-vision: rank the noisy training rows to relabel; scored by retraining a fixed torch model."""

from __future__ import annotations
