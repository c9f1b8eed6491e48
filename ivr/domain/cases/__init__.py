"""Cases: petitions (陳情, rules P) and dispatch orders (派工, T6 and K7), as pure rules.

Nothing here reads the clock or touches storage: every function takes the instant it
reasons about, and the calendars it counts working time on.
"""
