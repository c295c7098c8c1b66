"""Tests of the nikto engine."""
