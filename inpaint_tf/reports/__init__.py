"""Reports built from run records and released models.

- `results`: RESULTS.md, the study runs beside the study's reported rows and the
  classical baselines on the same holes (`build_report`).
- `photos`: a photo run's PHOTOS.md: test sets, goals, held-out seed, hole-share bins,
  time to quality (`build_photo_report`).
- `demo`: the released models on a real photo and CIFAR-10 test images beside
  Navier–Stokes (`run_demo`).

Example:
    >>> from inpaint_tf.reports import run_demo
    >>> run_demo("runs/demo")                                         # doctest: +SKIP
"""

from inpaint_tf._lazy import lazy_exports

_EXPORTS = {
    "build_report": "inpaint_tf.reports.results",
    "build_photo_report": "inpaint_tf.reports.photos",
    "run_demo": "inpaint_tf.reports.demo",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, ("results", "photos", "demo"))
