"""Scoring models and classical methods on identical holes.

- `protocols`: the study's protocol (raw output, whole image) and the hole protocol
  (composite, hole pixels only), per hole-share bin too: `evaluate`, `results_table`.
- `baselines`: the classical methods (OpenCV Navier–Stokes and Telea, scikit-image's
  biharmonic, OpenCV contrib's FSR fast and best) and trivial fills: `run_baselines`,
  `available_baselines`.
- `photos`: models on real photos at full size beside the baselines, pooled per mask
  family: `evaluate_photos`, `compare_on_photos`, `photo_table`.
- `classical_scores`: the classical methods' photo rows, kept in a file under the key
  of everything that decides them and reused: `ClassicalScores`.
- `runs`: a run folder, a ``.keras`` file or a released model on its fixed test set:
  `evaluate_run`.

Example:
    >>> from inpaint_tf.evaluation import evaluate_run, run_baselines
    >>> evaluate_run("runs/exp3", masks="irregular")                 # doctest: +SKIP
"""

from inpaint_tf._lazy import lazy_exports

_EXPORTS = {
    "as_predict_fn": "inpaint_tf.evaluation.protocols",
    "evaluate": "inpaint_tf.evaluation.protocols",
    "results_table": "inpaint_tf.evaluation.protocols",
    "write_table": "inpaint_tf.evaluation.protocols",
    "BASELINES": "inpaint_tf.evaluation.baselines",
    "BiharmonicBaseline": "inpaint_tf.evaluation.baselines",
    "CLASSICAL": "inpaint_tf.evaluation.baselines",
    "FSRBaseline": "inpaint_tf.evaluation.baselines",
    "IdentityBaseline": "inpaint_tf.evaluation.baselines",
    "MeanFillBaseline": "inpaint_tf.evaluation.baselines",
    "NavierStokesBaseline": "inpaint_tf.evaluation.baselines",
    "TeleaBaseline": "inpaint_tf.evaluation.baselines",
    "available_baselines": "inpaint_tf.evaluation.baselines",
    "run_baselines": "inpaint_tf.evaluation.baselines",
    "compare_on_photos": "inpaint_tf.evaluation.photos",
    "evaluate_photos": "inpaint_tf.evaluation.photos",
    "load_photo_set": "inpaint_tf.evaluation.photos",
    "photo_table": "inpaint_tf.evaluation.photos",
    "photo_times": "inpaint_tf.evaluation.photos",
    "plot_photo_samples": "inpaint_tf.evaluation.photos",
    "ClassicalScores": "inpaint_tf.evaluation.classical_scores",
    "package_version": "inpaint_tf.evaluation.classical_scores",
    "photos_checksum": "inpaint_tf.evaluation.classical_scores",
    "score_key": "inpaint_tf.evaluation.classical_scores",
    "evaluate_run": "inpaint_tf.evaluation.runs",
    "evaluate_run_on_photos": "inpaint_tf.evaluation.runs",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS,
                                    ("protocols", "baselines", "photos",
                                     "classical_scores", "runs"))
