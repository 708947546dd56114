"""The Xima UCaaS admin portal's screens (PORTAL.md, "Xima UCaaS portal"; seed 004).

One module per screen, one class per screen, found by role and accessible name only. Text
is read as the page gives it (its text content and accessible names), never as CSS shows
it, and dropdowns may be native `<select>`s or ARIA comboboxes.
"""
