"""Pure domain logic: no I/O, no clock reads; the clock is always passed in."""
