"""`dataperf`: the participant command line of the DataPerf platform (a client of its REST API).

It needs only the standard library (and the `evaluators` package for offline scoring), never Django.
"""

__version__ = "0.1.0"
