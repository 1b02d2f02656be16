"""sertools: speech emotion recognition with scarce labels, a teaching kit."""
__version__ = "0.1.0"
