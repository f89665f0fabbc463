"""A folder of photos: `inpaint_folder` against the model alone on the same photos.

The folder holds synthetic photo-like JPEGs (`_windows.photo`, one seed each) and one
mask of blemishes for all of them (`_windows.blemishes`). After a warm-up call that
traces the model:

- ``read``: seconds to decode every photo (`read_image_as_is`, as the folder run
  reads them), no model;
- ``model``: seconds of ``inpaint(model, photo, mask)`` per photo on the photos
  decoded beforehand and kept in memory: the model alone, as a loop over photos in
  memory runs it;
- ``write``: seconds to encode and write that many outputs (`write_image`), no model;
- ``folder``: seconds of ``inpaint_folder(model, folder, mask=..., out=...)``: reading,
  inpainting and writing, with reading and writing in background threads (the second
  of two runs: small photos of one size go through `inpaint` together, in batch shapes
  the first run meets first).

Photos per second of the folder run against the model alone: near 1 when decoding
and encoding hide behind the model, which is what the threads are for; below
``model / (read + model + write)`` when they do not.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def folders_table(settings, model=None) -> dict:
    """The four timings above on `settings.folders_photos` photos of
    `settings.folders_size`; `model` defaults to the released `settings.folders_model`."""
    import cv2
    import numpy as np
    from _windows import blemishes, photo

    from inpaint_tf import pretrained
    from inpaint_tf.data.image_files import model_input, read_image_as_is, write_image
    from inpaint_tf.inference.folders import inpaint_folder
    from inpaint_tf.inference.inpainting import inpaint

    name = settings.folders_model if model is None else getattr(model, "name", "given")
    model = pretrained(settings.folders_model) if model is None else model
    height, width = settings.folders_size
    count = settings.folders_photos
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "photos").mkdir()
        files = [root / "photos" / f"{index:04d}.jpg" for index in range(count)]
        for index, file in enumerate(files):
            assert cv2.imwrite(str(file), photo(height, width, seed=index)[:, :, ::-1],
                               [cv2.IMWRITE_JPEG_QUALITY, 90])
        mask = blemishes(height, width, settings.folders_blemishes)
        assert cv2.imwrite(str(root / "mask.png"), mask * 255)

        started = time.perf_counter()
        decoded = [model_input(read_image_as_is(file)) for file in files]
        read_seconds = time.perf_counter() - started
        filled = inpaint(model, decoded[0], mask)  # warm-up: traces the model
        started = time.perf_counter()
        for image in decoded:
            filled = inpaint(model, image, mask)
        model_seconds = time.perf_counter() - started
        del decoded
        started = time.perf_counter()
        for index in range(count):
            write_image(root / "written" / f"{index:04d}.jpg", filled)
        write_seconds = time.perf_counter() - started
        del filled

        # Warm-up: photos of one size go through `inpaint` together, new batch shapes.
        inpaint_folder(model, root / "photos", mask=root / "mask.png", out=root / "warm-up",
                       verbose=0)
        started = time.perf_counter()
        report = inpaint_folder(model, root / "photos", mask=root / "mask.png",
                                out=root / "out", verbose=0)
        folder_seconds = time.perf_counter() - started
        assert len(report.written) == count and not report.failed
    result = {"model": name, "size": [height, width], "megapixels": height * width / 1e6,
              "photos": count, "blemishes": settings.folders_blemishes,
              "hole_pixels": int(np.count_nonzero(mask)),
              "read_seconds": read_seconds, "model_seconds": model_seconds,
              "write_seconds": write_seconds, "folder_seconds": folder_seconds,
              "model_photos_per_second": count / model_seconds,
              "folder_photos_per_second": count / folder_seconds,
              "serial_photos_per_second": count / (read_seconds + model_seconds
                                                   + write_seconds)}
    result["folder_over_model"] = (result["folder_photos_per_second"]
                                   / result["model_photos_per_second"])
    print(f"  {count} photos of {result['megapixels']:.3g} MP: model alone "
          f"{result['model_photos_per_second']:.2f} photos/s, folder run "
          f"{result['folder_photos_per_second']:.2f} ({result['folder_over_model']:.2f}x); "
          f"read {read_seconds:.1f} s, write {write_seconds:.1f} s", flush=True)
    return result


def folders_md(result: dict) -> str:
    """The result as a Markdown table."""
    height, width = result["size"]
    header = [f"photos ({result['model']})", "model alone (photos/s)",
              "inpaint_folder (photos/s)", "folder / model", "read + model + write in turn "
              "(photos/s)", "read (s)", "write (s)"]
    row = [f"{result['photos']} JPEGs {width}x{height} ({result['megapixels']:.3g} MP), one "
           f"mask of {result['blemishes']} blemishes",
           f"{result['model_photos_per_second']:.2f}",
           f"{result['folder_photos_per_second']:.2f}", f"{result['folder_over_model']:.2f}",
           f"{result['serial_photos_per_second']:.2f}", f"{result['read_seconds']:.1f}",
           f"{result['write_seconds']:.1f}"]
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                      "| " + " | ".join(row) + " |"])
