"""Page objects: one class per portal screen, found by role and accessible name (PORTAL.md)."""
