"""Sector factor scores and IC testing."""
