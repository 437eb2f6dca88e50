"""Embeddable widgets: an action's counter and signing form inside another site's iframe."""
