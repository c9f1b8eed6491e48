"""hotline1999: IVR and call-routing engine for a municipal 1999 citizen hotline."""

__version__ = "0.1.0"
