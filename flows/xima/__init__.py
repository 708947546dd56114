"""The Xima UCaaS robot's business steps: sign in, then per user ensure (add or edit) or
delete, each looking at the portal before it writes (seed 004)."""
