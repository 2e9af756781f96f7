"""Serving: PaddleX's HTTP protocol on hpi's pipelines, with cross-request batching; Ray scale-out.

- :mod:`.app`: :class:`Service` (admission, limits, metrics) and :func:`create_app` (FastAPI routes);
- :mod:`.apps`: per pipeline PaddleX's endpoint, results field and pictures; request schemas generated
  from each pipeline's parameter declaration;
- :mod:`.batching`: :class:`BatchingRunner`, installed with ``Pipeline.wrap_runners``;
- :mod:`.files`: request files → pages, result pictures → base64;
- :mod:`.server`: ``hpi --serve`` under uvicorn; :mod:`.client`: a small Python client;
- :mod:`.ray_serve`, :mod:`.ray_batch`: a Ray Serve deployment and a Ray Data batch job.

Needs the ``serve`` extra (``pip install "hpi[serve]"``; Ray: ``hpi[ray]``). Nothing heavy is
imported here.
"""

from .settings import ServingSettings

__all__ = ["ServingSettings"]
