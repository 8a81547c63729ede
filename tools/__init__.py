"""Tools that stand outside the server: each talks to it over HTTP only, like any other client."""
