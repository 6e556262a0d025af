"""The training pipeline: the learner, its run folder, the self-play pools and the configuration that names a recipe.

``config`` (dataclasses, TOML presets in ``presets/``, overrides);
``run_folder`` (where a run keeps everything); ``learner`` (the loop:
shards into the replay window, training steps, checkpoints, the gauntlet);
``pool`` (local worker processes) and ``ray_selfplay`` (Ray actors);
``metrics`` and ``compute`` (what a run logs and the hardware it used).
"""
