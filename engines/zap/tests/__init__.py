"""Tests of the zap engine."""
