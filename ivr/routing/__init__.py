"""Routing tables: menus, directory, hours, block list, agents — validated data."""
