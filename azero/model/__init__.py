"""The model layer: a position as input planes, the residual policy-value network, checkpoints on disk, evaluators.

``planes`` encodes a board; ``network`` is the ResNet (KataGo-style heads
optional); ``checkpoint`` reads and writes safetensors + JSON (no pickle)
and refuses a file from a stranger that does not hold a real azero net;
``evaluator`` and ``onnx_evaluator`` turn a net into the callable the
search asks (planes -> logits, values); ``export`` writes ONNX; ``shipped``
names the networks in ``checkpoints/``.  Imports only ``games``.
"""
