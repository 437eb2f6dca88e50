"""Donation asks: the charity's own donation page, suggested amounts, views and clicks."""
