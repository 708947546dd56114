"""Business steps of onboarding a hire into Nextiva Voice, each observing before it acts."""
