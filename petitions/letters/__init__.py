"""Letters to targets: a company's executives, or the supporter's MP found by postcode."""
