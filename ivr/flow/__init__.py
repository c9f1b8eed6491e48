"""The citizen's call, one module per step or destination.

`call.py` holds what every step shares (the AGI session, the call's state, playing a
prompt, the call's timeline); `journey.py` runs a call from greeting to hand-over;
`destinations.py` is the table from each destination type of the routing tables to
its handler. Decisions come from `ivr.domain`; the store is written through the
same repository (or the outage spool) the rest of the engine uses.
"""
