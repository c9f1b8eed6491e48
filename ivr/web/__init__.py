"""The web console: agents, officers, liaison windows and supervisors in a browser.

See docs/web.md for how the pieces fit and how to add a page or an API route.
"""
