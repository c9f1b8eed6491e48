"""The file names of a routing profile's tables."""

from __future__ import annotations

PROFILE = "profile.yaml"
MENUS = "menus.yaml"
HOURS = "hours.yaml"
BLOCKLIST = "blocklist.yaml"
DIRECTORY = "directory.yaml"
AGENTS = "agents.yaml"
DISPATCH = "dispatch_items.yaml"
