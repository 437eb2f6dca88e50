"""Paper and offline signatures: counts and names an organiser collected off-line (issue 16)."""
