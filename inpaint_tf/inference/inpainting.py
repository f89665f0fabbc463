"""Inpainting images of any size with a trained model: windows around the holes, or
the whole image; pad, predict, composite.

The library's models are fully convolutional but need a height and width
divisible by their total downsampling factor (16 for the UNets, 4 for the GAN
generator). By default `inpaint` runs the model only on windows around the holes
(`inpaint_tf.inference.windows`: nearby holes grouped, known context around each,
groups larger than a tile cut along their pixels into tiles, windows of a few sizes
batched), so its cost grows with the hole pixels, not the photo, whatever the holes'
shape. The whole-image pass (mirror-padded at the bottom and right) stays an option
and is chosen when the windows would cover half the image or more; over half a
megapixel it runs in tiles, so that memory is bounded by a tile. Either way the output is
composited: known pixels are returned unchanged, bit for bit.

Files exported at one fixed size (`inpaint_tf.serving.load_exported`) serve any
image size the same way: each window, or tile, is brought to their size. Serving
them imports no TensorFlow: this module needs NumPy and OpenCV, and Keras only
for a Keras model (or a progress bar).

Example:
    >>> from inpaint_tf import inpaint
    >>> filled = inpaint(model, images, masks)  # masks: 1 = hole  # doctest: +SKIP
    >>> whole = inpaint(model, images, masks, windows=False)  # doctest: +SKIP
    >>> several = inpaint(model, [photo, scan], [holes, scratches])  # doctest: +SKIP
"""

from __future__ import annotations

import math
import sys
import warnings
import weakref

import numpy as np

from inpaint_tf._validation import (
    as_binary_masks,
    as_image_batch,
    check_positive_int,
    is_int,
)
from inpaint_tf.compositing import composite
from inpaint_tf.inference import windows as _windows

_DOWNSAMPLING_LAYERS = ("Conv2D", "PartialConv2D", "MaxPooling2D", "AveragePooling2D",
                        "DepthwiseConv2D", "SeparableConv2D")
# Layers after which an output pixel depends on the whole input (no finite field).
_GLOBAL_LAYERS = ("Flatten", "Reshape", "Attention", "MultiHeadAttention")
AUTO_SHARE = 0.5  # windows="auto": windows when they cover less than this share
BATCH_PIXELS = 1 << 19  # pixels per model call at most (unless one window is larger);
# half a megapixel keeps photo_unet under 2 GB on a 24 MP photo (benchmarks, "shapes")
PROGRESS_CALLS = 4  # verbose="auto": a progress bar for jobs of this many model calls
MOSTLY_HOLE = 0.9  # a mask with a larger hole share warns: little is known, maybe inverted


def size_multiple(model) -> int:
    """The factor a model's input height and width must be divisible by.

    The product of the strides of its downsampling layers (convolutions and
    pooling, nested models included) — right for encoder-decoder networks with
    one downsampling path, such as all models of this library.
    """
    factor = 1
    for layer in _walk_layers(model):
        if type(layer).__name__ not in _DOWNSAMPLING_LAYERS:
            continue
        strides = getattr(layer, "strides", None) or getattr(layer, "pool_size", None) or (1,)
        factor *= max(int(s) for s in np.atleast_1d(strides))
    return factor


def receptive_field(model) -> int | None:
    """The width in pixels of the input that one output pixel of `model` can depend on.

    Followed through the model's graph (nested models included): a convolution adds
    ``(kernel - 1) * dilation`` input steps, a pooling ``pool - 1``, a transposed
    convolution ``ceil(kernel / stride) - 1``, a `HarmonicFill` its coarsest cell
    (``2 ** levels``); strides and upsampling change the step; where paths meet, the
    widest counts. The conv UNets: 202 px; the GLCIC generator: 301 px. None when it
    cannot be known: a model that is not a functional graph, or a layer that mixes
    the whole image (Flatten, attention, global pooling).

    Example:
        >>> receptive_field(pretrained("own_unet_irregular"))   # doctest: +SKIP
        202
    """
    network = inpainting_network(model)
    graph = getattr(network, "_functional", None) or network  # a Sequential's graph
    if not hasattr(graph, "_nodes_by_depth"):
        return None
    found = _graph_field(graph, [(1.0, 1.0)] * len(graph.inputs))
    return None if found is None else math.ceil(found[0])


def _graph_field(graph, states: list) -> tuple[float, float] | None:
    """(field, step) at the outputs of a functional `graph` given those of its inputs."""
    values = {id(tensor): state for tensor, state in zip(graph.inputs, states)}
    for depth in sorted(graph._nodes_by_depth, reverse=True):
        for node in graph._nodes_by_depth[depth]:
            if not node.operation or node.is_input:
                continue
            given = [values[id(t)] for t in node.input_tensors if id(t) in values]
            if not given:
                continue
            state = _layer_field(node.operation, max(f for f, _ in given),
                                 max(s for _, s in given))
            if state is None:
                return None
            for tensor in node.outputs:
                values[id(tensor)] = state
    reached = [values[id(t)] for t in graph.outputs if id(t) in values]
    return (max(f for f, _ in reached), max(s for _, s in reached)) if reached else None


def _layer_field(layer, field: float, step: float) -> tuple[float, float] | None:
    kind = type(layer).__name__

    def largest(name, default=1):
        value = getattr(layer, name, None)
        return max(int(v) for v in np.atleast_1d(default if value is None else value))

    if kind in _GLOBAL_LAYERS or kind.startswith("Global"):
        return None
    if hasattr(layer, "_nodes_by_depth"):  # a nested functional model
        return _graph_field(layer, [(field, step)] * len(layer.inputs))
    if hasattr(layer, "kernel_size"):
        kernel, stride = largest("kernel_size"), largest("strides")
        if "Transpose" in kind:
            return field + (math.ceil(kernel / stride) - 1) * step, step / stride
        return field + (kernel - 1) * largest("dilation_rate") * step, step * stride
    if hasattr(layer, "pool_size"):
        pool = largest("pool_size")
        return field + (pool - 1) * step, step * largest("strides", pool)
    if kind.startswith("UpSampling"):
        return field, step / largest("size")
    if hasattr(layer, "levels"):  # HarmonicFill: a pyramid of `levels` halvings
        return field + 2 ** int(layer.levels) * step, step
    return field, step


def _walk_layers(model):
    for layer in getattr(model, "layers", []):
        yield layer
        if hasattr(layer, "layers"):
            yield from _walk_layers(layer)


def inpainting_network(model):
    """The network that inpaints: `model`, or the generator of a GAN training model
    (the one place that takes a generator out of a GAN)."""
    generator = getattr(model, "generator", None)
    return generator if generator is not None and hasattr(generator, "layers") else model


def pad_amounts(height: int, width: int, multiple: int) -> tuple[int, int]:
    """Rows and columns to add at the bottom and right to reach a multiple."""
    return (-height) % multiple, (-width) % multiple


def _mirror_pad(array: np.ndarray, rows: int, cols: int) -> np.ndarray:
    if rows == 0 and cols == 0:
        return array
    # "symmetric" mirrors including the edge pixel, so any pad size works.
    return np.pad(array, ((0, 0), (0, rows), (0, cols), (0, 0)), mode="symmetric")


_COMPILED = weakref.WeakKeyDictionary()


def _predictor(network):
    """``(image, mask) -> raw float32 NumPy output`` of `network`.

    A Keras model runs as one compiled function for every size (half the memory of
    an eager call and about twice as fast on a large image); anything else (an
    `inpaint_tf.serving.ExportedModel`) is called as it is, without TensorFlow.
    """
    keras = sys.modules.get("keras")  # a Keras model exists only once Keras is imported
    if keras is None or not isinstance(network, keras.Model):
        return lambda image, mask: np.asarray(
            network({"image": image, "mask": mask}, training=False), np.float32)
    function = _COMPILED.get(network)
    if function is None:
        import tensorflow as tf

        reference = weakref.ref(network)  # the cache must not keep the model alive

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32),
                                      tf.TensorSpec([None, None, None, 1], tf.float32)])
        def function(image, mask):
            output = reference()({"image": image, "mask": mask}, training=False)
            return tf.cast(output, tf.float32)

        _COMPILED[network] = function
    return lambda image, mask: function(image, mask).numpy()


def _run(predict, image: np.ndarray, mask: np.ndarray, multiple: int) -> np.ndarray:
    """The model's output for a batch of one size, padded to `multiple` and cropped
    back, checked and clipped to [0, 1]."""
    height, width = image.shape[1:3]
    rows, cols = pad_amounts(height, width, multiple)
    # The library's models write their fill value into holes themselves.
    raw = predict(_mirror_pad(image, rows, cols), _mirror_pad(mask, rows, cols))
    raw = raw[:, :height, :width]
    if not np.all(np.isfinite(raw)):
        raise ValueError("The model returned NaN or Inf values")
    return np.clip(raw, 0.0, 1.0)


def _chunks(count: int, pixels: int, batch_size: int):
    """Slices of `count` items of `pixels` each: at most `batch_size` items and
    `BATCH_PIXELS` pixels per slice (one item when it alone is larger)."""
    step = max(1, min(batch_size, BATCH_PIXELS // max(pixels, 1)))
    for start in range(0, count, step):
        yield slice(start, min(start + step, count))


def _floats(array: np.ndarray) -> np.ndarray:
    """float32 in [0, 1]: uint8 scaled by 1/255 (as `as_float_images` does), else as it
    is (already checked), masks (bool) as 0 and 1."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255.0)
    return array.astype(np.float32, copy=False)


def _whole_call(predict, images, masks, results, indices, multiple) -> None:
    """One model call on whole images of one size."""
    image = _floats(np.stack([images[i] for i in indices]))
    mask = _floats(np.stack([masks[i] for i in indices]))
    output = composite(_run(predict, image, mask, multiple), image, mask)
    for index, values in zip(indices, output):
        results[index][...] = values


def _window_call(predict, images, masks, results, labels, chunk, multiple) -> None:
    """One model call on windows of one size; each writes only its own hole pixels."""
    image = _floats(np.stack([_windows.crop(images[w.image], w) for w in chunk]))
    mask = _floats(np.stack([_windows.crop(masks[w.image], w) for w in chunk]))
    for window, values in zip(chunk, _run(predict, image, mask, multiple)):
        _windows.paste(results[window.image], labels[window.image], window, values)


def _model_calls(images, whole, windows, batch_size) -> list:
    """The job as model calls: ``("whole", image indices)`` for whole images of one
    size, ``("windows", windows)`` for windows of one size; at most `batch_size`
    items and `BATCH_PIXELS` pixels each (one item when it alone is larger)."""
    calls = []
    by_shape: dict[tuple[int, int], list[int]] = {}
    for index in whole:
        by_shape.setdefault(images[index].shape[:2], []).append(index)
    for (height, width), indices in by_shape.items():
        calls.extend(("whole", indices[part])
                     for part in _chunks(len(indices), height * width, batch_size))
    by_size: dict[tuple[int, int], list] = {}
    for window in windows:
        by_size.setdefault(window.size, []).append(window)
    for size, group in sorted(by_size.items()):
        calls.extend(("windows", group[part])
                     for part in _chunks(len(group), size[0] * size[1], batch_size))
    return calls


def _fixed_size(network, window_size) -> tuple[int, int] | None:
    """The one input size the model takes (exported files), or `window_size`."""
    own = getattr(network, "fixed_size", None)
    own = None if own is None else (int(own[0]), int(own[1]))
    if window_size is None:
        return own
    size = (window_size, window_size) if np.ndim(window_size) == 0 else tuple(window_size)
    if len(size) != 2:
        raise ValueError("`window_size` must be an int or (height, width). "
                         f"Received: window_size={window_size!r}")
    size = tuple(check_positive_int(v, "window_size") for v in size)
    if own is not None and size != own:
        raise ValueError(f"`window_size` must be the model's fixed size {own}. "
                         f"Received: window_size={window_size!r}")
    return size


def _checked_context(context) -> int | None:
    if context is None:
        return None
    if not is_int(context) or context < 0:
        raise ValueError("`context` must be None or a non-negative integer (pixels). "
                         f"Received: context={context!r}")
    return int(context)


def _checked_verbose(verbose):
    if isinstance(verbose, str) and verbose == "auto":
        return verbose
    if isinstance(verbose, (bool, int, np.integer)) and int(verbose) in (0, 1, 2):
        return int(verbose)
    raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")


def _progress_bar(verbose, calls: int, total: int):
    """Keras' progress bar over `total` windows, or None: `verbose` 0, "auto" for a
    job of fewer than `PROGRESS_CALLS` model calls, or no Keras installed (an
    exported file served without TensorFlow). "auto" draws the bar on a terminal and
    writes one line at the end elsewhere (a log)."""
    if verbose == 0 or (verbose == "auto" and calls < PROGRESS_CALLS):
        return None
    try:
        import keras
    except ImportError:
        return None

    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    return keras.utils.Progbar(total, verbose=verbose, unit_name="window")


class MostlyHoleWarning(UserWarning):
    """A mask over `MOSTLY_HOLE` hole: almost nothing known to fill it from."""


def warn_if_mostly_hole(mask, name: str, stacklevel: int = 2) -> None:
    """Warns (`MostlyHoleWarning`, a `UserWarning`) when over `MOSTLY_HOLE` (90 %) of
    `mask` (1 = hole) is hole, as with an inverted mask; `name` names the mask in the
    message, which gives its hole share.

    Example:
        >>> warn_if_mostly_hole(np.ones((4, 4)), "the mask")          # doctest: +SKIP
        MostlyHoleWarning: 100.0% of the mask is hole (over 90%): ...
    """
    share = float(np.count_nonzero(mask)) / max(np.size(mask), 1)
    if share > MOSTLY_HOLE:
        warnings.warn(f"{share:.1%} of {name} is hole (over {MOSTLY_HOLE:.0%}): almost no "
                      "known pixels to fill it from. The mask may be inverted: 1 (in a "
                      "file, non-zero) = hole, 0 = known", MostlyHoleWarning,
                      stacklevel=stacklevel + 1)


def _inputs(images, masks) -> tuple[list, list, str]:
    """The images and masks as lists of checked (H, W, 3) arrays (uint8 as given, so
    that a photo is converted to floats only window by window, else float32 in [0, 1])
    and (H, W, 1) bool masks; and the form of the answer: "list", "batch" or
    "single"."""
    if isinstance(images, (list, tuple)):
        if not isinstance(masks, (list, tuple)) or len(masks) != len(images):
            raise ValueError("`masks` must be a list of one mask per image when `images` is "
                             f"a list. Received: {len(images)} images, masks of type "
                             f"{type(masks).__name__}"
                             + (f" ({len(masks)})" if isinstance(masks, (list, tuple)) else ""))
        if not images:
            raise ValueError("`images` is empty. Received: images=[]")
        checked, holes = [], []
        for number, (image, mask) in enumerate(zip(images, masks)):
            image = np.asarray(image)
            if image.ndim != 3:
                raise ValueError(f"`images[{number}]` must have shape (H, W, 3). "
                                 f"Received: images[{number}].shape={image.shape}")
            image = as_image_batch(image[None], f"images[{number}]")
            holes.append(as_binary_masks(np.asarray(mask)[None], f"masks[{number}]",
                                         like=image)[0] > 0.5)
            checked.append(image[0])
        return checked, holes, "list"
    single = np.ndim(images) == 3
    if single:
        images, masks = np.asarray(images)[None], np.asarray(masks)[None]
    images = as_image_batch(images)
    masks = as_binary_masks(masks, like=images) > 0.5
    return list(images), list(masks), "single" if single else "batch"


def inpaint(model, images, masks, *, batch_size: int = 32, multiple: int | None = None,
            windows="auto", context: int | None = None,
            window_size: int | tuple[int, int] | None = None, verbose="auto"):
    """Fills the holes of `images` with `model`; known pixels come back unchanged.

    By default the model runs only on windows around the holes, never over the
    untouched rest of a photo (the rule: `inpaint_tf.inference.windows`). Each hole's
    bounding box gets ``context`` pixels of known context on every side (default
    ``max(32, half the hole's larger side)``, at most the model's receptive radius,
    `receptive_field` / 2: 101 px for the conv UNets); boxes that then overlap are
    merged; a group larger than a tile (a scratch across the photo, a frame, a
    scribble, dust over a large area) is cut along its pixels into tiles, each with
    the context its holes need, so the cost follows the hole pixels and no model call
    holds much more than half a megapixel; windows are aligned to the model's
    size-multiple grid and batched by size. A window writes only the pixels of its
    own holes (a tile, those in its core), so each hole pixel is written once.

    With ``context`` at least the receptive radius the output is the whole-image
    pass's up to float round-off: 1e-5 for conv networks (tests/test_windows.py and
    tests/test_tiles.py, on strokes, scribbles, frames, dust, blemishes and 50 %
    holes). With the default, the released conv UNet's hole pixels differ from the
    whole pass by at most 1e-3, a quarter of one 8-bit level, and by over 80 dB
    PSNR (measured: 5e-5 and over 100 dB).

    A network with a harmonic prefill (``prefill="harmonic"``, the released
    `photo_unet`) has a global part: its `HarmonicFill` averages the known pixels
    down a pyramid whose coarsest cells (256 px) are wider than the context. Its
    receptive radius counts one such cell (229 px for `photo_unet`). With that
    context a window's prefill differs from the whole image's at a hole pixel by at
    most a bound computed from the mask alone (derived and tested in
    tests/test_tiles.py: the pyramid's levels up to the 16-px grid match the whole
    image's cell by cell, coarser ones may differ by up to 1, and each finer level
    passes that on only through the unknown share of its cells and 32 relaxation
    steps that average it with the exact known cells). The bound is below 1e-9 for
    strokes, scribbles, frames, dust and blemishes, where `photo_unet`'s tiles equal
    its whole pass (tested within 1e-3; measured: bit for bit); deep in wide holes it
    reaches 1, and on 50 % holes `photo_unet`'s tiles differ from its whole pass by up
    to 5e-2, 5e-3 on average (tested; measured: 2.2e-2 and 1.2e-3).

    Where the windows would cover half the image or more, "auto" runs the whole
    image instead; over half a megapixel (and for a network whose receptive field is
    known) the whole pass is itself cut into tiles with the receptive radius as
    context (`inpaint_tf.inference.windows.whole_tiles`), so memory is bounded by a
    tile, not by the photo.

    Args:
        model: a Keras model taking ``{"image", "mask"}`` (any model of this library;
            a GAN training model runs its generator), or a fixed-size exported file
            (`inpaint_tf.serving.load_exported`; served without TensorFlow).
        images: (N, H, W, 3) or one (H, W, 3) image, uint8 or float in [0, 1]; any
            size. Or a list of (H, W, 3) images of different sizes.
        masks: (N, H, W[, 1]) or (H, W[, 1]), 1 = hole; a list of masks for a list
            of images.
        batch_size: images (whole pass) or windows per model call, fewer when they
            would exceed about half a megapixel (`BATCH_PIXELS`).
        multiple: required size multiple; default `size_multiple(model)`.
        windows: "auto" (windows when their padded pixels add up to less than half
            of the whole pass's, else the whole image, in tiles when large), True
            (always windows) or False (the whole image at once, never tiled: the
            reference, whose memory grows with the photo).
        context: pixels of known context around each hole's bounding box (and each
            tile's pixels); None: the default rule above.
        window_size: run every window at this one size (an int or (height, width)),
            as a fixed-size model needs: a smaller group of holes is centred in a
            window of that size (more context), a larger one is cut into tiles that
            are each centred in a window of that size (filled at full resolution).
            Default: the model's own fixed size (an exported file), else windows of
            any size.
        verbose: "auto" (Keras' `Progbar` over the windows for a job of
            `PROGRESS_CALLS` model calls or more: a bar on a terminal, else one line
            at the end), 0 (none), 1 (a bar) or 2 (one line at the end); none
            where Keras is not installed.

    Returns:
        float32 images in [0, 1] of the input's shape (composited), or a list of
        them for a list. uint8 input is scaled by 1/255; a size that is no multiple
        is mirror-padded and cropped back; a mask without holes returns the image
        unchanged, bit for bit, without calling the model; an all-hole mask returns
        the model's output clipped to [0, 1]. A mask over `MOSTLY_HOLE` (90 %) hole,
        as an inverted mask is, warns (`warn_if_mostly_hole`).

    Raises:
        ValueError: images not (N, H, W, 3) or (H, W, 3) (or a list of (H, W, 3)),
            uint8 or float in [0, 1], or with NaN or Inf; masks not binary, not of
            the images' size or not one per image; an option out of range
            (``windows=False`` with a fixed-size model and images of another size
            included); a model output with NaN or Inf. Each message names the
            argument.

    Example:
        >>> photo = cv2.imread("photo.jpg")[:, :, ::-1]                # doctest: +SKIP
        >>> filled = inpaint(pretrained("photo_unet"), photo, holes)   # doctest: +SKIP
        >>> filled = inpaint(model, [photo, other], [holes, others])   # doctest: +SKIP
        >>> from inpaint_tf.export import export_onnx, load_exported    # doctest: +SKIP
        >>> export_onnx(model, "unet.onnx", height=64, width=64)       # doctest: +SKIP
        >>> filled = inpaint(load_exported("unet.onnx"), photo, holes)  # doctest: +SKIP
    """
    images, masks, form = _inputs(images, masks)
    batch_size = check_positive_int(batch_size, "batch_size")
    if not (windows is True or windows is False or windows == "auto"):
        raise ValueError(f"`windows` must be 'auto', True or False. Received: windows={windows!r}")
    context = _checked_context(context)
    verbose = _checked_verbose(verbose)
    network = inpainting_network(model)
    fixed = _fixed_size(network, window_size)
    multiple = size_multiple(network) if multiple is None else check_positive_int(multiple,
                                                                                   "multiple")
    if fixed is not None and windows is False:
        for image in images:
            if image.shape[:2] != fixed:
                raise ValueError(f"The model takes {fixed[0]}x{fixed[1]} images only: "
                                 "`windows` must be True or 'auto' for "
                                 f"{image.shape[0]}x{image.shape[1]} images. Received: "
                                 "windows=False")
    field = receptive_field(network) if fixed is None else None
    limit = None if field is None else math.ceil(field / 2)

    # Windows read the input, never each other's fill.
    if form == "list":
        output = [_floats(image) if image.dtype == np.uint8 else image.copy()
                  for image in images]
    else:
        output = np.stack(images)
        output = _floats(output) if output.dtype == np.uint8 else output
    results = list(output)
    whole, labels, planned = [], {}, []
    for index, mask in enumerate(masks):
        if not mask.any():
            continue
        warn_if_mostly_hole(mask, "the mask" if form == "single" else f"masks[{index}]",
                            stacklevel=2)
        height, width = mask.shape[:2]
        if windows is False or (height, width) == fixed:
            whole.append(index)
            continue
        if fixed is not None:
            # No receptive-field cap: the file's field is unknown.
            found, chosen = _windows.fixed_size_windows(mask, fixed, context=context,
                                                        image=index)
        else:
            rows, cols = pad_amounts(height, width, multiple)
            padded = (height + rows) * (width + cols)
            # Windows hold every hole pixel: holes over the share need no plan.
            mostly = windows == "auto" and int(mask.sum()) >= AUTO_SHARE * padded
            found, chosen = (None, []) if mostly else _windows.hole_windows(
                mask, multiple=multiple, context=context, limit=limit, image=index)
            if windows == "auto" and (mostly or sum(w.pixels for w in chosen)
                                      >= AUTO_SHARE * padded):
                if limit is None or padded <= _windows.MAX_PIXELS:
                    whole.append(index)
                    continue
                found, chosen = _windows.whole_tiles(mask, multiple=multiple, context=limit,
                                                     image=index)
        labels[index] = found
        planned.extend(chosen)
    calls = _model_calls(images, whole, planned, batch_size)
    bar = _progress_bar(verbose, len(calls), len(whole) + len(planned))
    predict = _predictor(network) if calls else None
    done = 0
    for kind, items in calls:
        if kind == "whole":
            _whole_call(predict, images, masks, results, items, multiple)
        else:
            _window_call(predict, images, masks, results, labels, items, multiple)
        done += len(items)
        if bar is not None:
            bar.update(done)
    return output[0] if form == "single" else output
