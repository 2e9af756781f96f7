"""Time series as PaddleX's time-series pipelines read them: inputs and checks (:mod:`.series`), time features
(:mod:`.features`)."""
