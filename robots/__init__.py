"""The onboarding robot: entry points and run machinery (roster, settings, browser, CLI)."""
