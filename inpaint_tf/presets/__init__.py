"""Released models, as keras-hub calls them presets.

- `released`: the files of a release in the package's ``released/`` folder (float16
  weights and a manifest with its test figures) and `pretrained` by name.
- `loading`: a run folder, a ``.keras`` file or a released name becomes a model
  and its config (`load_inference_model`); every caller resolves through it.
- `releasing`: a finished run becomes a release (`release_run`).

Example:
    >>> from inpaint_tf.presets import pretrained, pretrained_names
    >>> model = pretrained(pretrained_names()[0])                    # doctest: +SKIP
"""

from inpaint_tf._lazy import lazy_exports

_EXPORTS = {
    "pretrained": "inpaint_tf.presets.released",
    "pretrained_manifest": "inpaint_tf.presets.released",
    "pretrained_names": "inpaint_tf.presets.released",
    "load_inference_model": "inpaint_tf.presets.loading",
    "release_run": "inpaint_tf.presets.releasing",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, ("released", "loading", "releasing"))
