"""`make bench`: the app served and loaded as in production, measured side by side."""
