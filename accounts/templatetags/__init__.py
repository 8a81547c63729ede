"""Template filters of ``accounts``, usable on every app's pages."""
