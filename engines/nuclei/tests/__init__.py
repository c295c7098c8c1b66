"""Tests of the nuclei engine."""
