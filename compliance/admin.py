"""Incidents are not edited in Django admin: their pages and API go through the actions."""
