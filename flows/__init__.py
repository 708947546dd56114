"""Business steps of onboarding, each observing the portal before it acts."""
