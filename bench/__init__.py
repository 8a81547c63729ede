"""`make bench`: a load benchmark of the running server against a certified peer."""
