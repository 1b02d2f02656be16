"""sertools: speech emotion recognition with scarce labels, a teaching kit."""
__version__ = "0.2.0"
