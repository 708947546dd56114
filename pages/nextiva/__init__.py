"""Page objects of the Nextiva Voice admin portal: one class per screen (PORTAL.md)."""
