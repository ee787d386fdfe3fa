"""Plumbing below every app: what outerloop, reactions and sessions all use and none owns.

People's words (`text`, `fields`), fetching through the owner (`ownership`), enqueueing on
commit past a broker that may be down (`queue`, `breaker`), a cache that fails open
(`cache`), safe redirects (`redirects`) and the owner-fixed admin (`admin_fixed`). Nothing
here imports an app: the import contract in pyproject.toml (import-linter) keeps it so.
"""
