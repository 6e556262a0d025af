"""The Gomocup engine face: ``azero pbrain`` / ``pbrain-azero`` speaking the Piskvork protocol on stdin/stdout.

``engine`` is the protocol, the clock and the memory sizing;
``one_line_parser`` is the argument parser that fails in one line (the
command line shares it).
"""
