"""The reference native client: a command-line Timesheets app that signs in with OpenID Connect
(Authorization Code + PKCE through the system browser, or the device flow) and calls the
Timesheets API over HTTP. It imports nothing from the server: it is a client like any other."""
