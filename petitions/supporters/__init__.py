"""Supporters: one person across every campaign, known by their normalised email."""
