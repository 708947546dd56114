"""Mock portals for developing and testing the robot: one package per portal kind.

`mock_portal.nextiva` stands in for the Nextiva Voice admin portal, `mock_portal.xima` for
Xima UCaaS. What they share sits here: the threaded HTTP server, server-side sessions, the
fault profiles and the Host check.
"""
