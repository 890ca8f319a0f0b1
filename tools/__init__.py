"""Tools for the course's authors (not needed by learners)."""
