"""AGI scripts: one module per script; the function name is the script name."""
