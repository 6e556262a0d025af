"""The benchmarks behind ``azero bench``: engine moves/s, search simulations/s, network and ONNX evaluations/s, window move time.

``suite`` runs the throughput report; ``engine`` times the rules engine;
``onnx_speed`` compares ONNX Runtime with torch; ``play_speed`` times the
window's moves on a busy machine.  Numbers only: tests never fail on timing.
"""
