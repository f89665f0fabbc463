"""The issue's targets checked against a run's results, and the run as Markdown tables."""

from __future__ import annotations

from pathlib import Path

HEADER = """# Benchmarks

Each full run of `make bench` (`python benchmarks/run.py`) appends a section below: the
machine, its load while measuring, and every figure of the run. See `README.md` in this
folder for what is measured and how.
"""


def _training_row(results: dict, model: str, precision: str) -> dict | None:
    """The fastest measured batch of `model` under `precision`."""
    rows = [r for r in results["training"] if (r["model"], r["precision"]) == (model, precision)]
    return max(rows, key=lambda r: r["ceiling_fraction"]) if rows else None


def _at_least(name: str, measured, target: float, shown: str, note: str) -> dict:
    met = measured is not None and measured >= target
    miss = "" if met or measured is None else f"short by {100 * (1 - measured / target):.0f}%"
    return {"target": name, "measured": shown, "goal": f">= {target:g}", "met": met,
            "miss": miss, "note": note}


def _ceiling_target(results: dict, model: str, share: float | None) -> dict:
    row = _training_row(results, model, "mixed")
    name = f"{model} (mixed) share of the {results['ceiling']['mixed_dtype']} matmul ceiling"
    if row is None:
        return {"target": name, "measured": "not measured", "goal": "", "met": None,
                "miss": "", "note": ""}
    note = (f"{row['achieved_gflops']:.0f} of {row['ceiling_gflops']:.0f} GFLOP/s at batch "
            f"{row['batch_size']} ({row['train_gflop_per_image']:.2f} GFLOP per image per step)")
    shown = f"{row['ceiling_fraction']:.2f}"
    if share is None:
        return {"target": name, "measured": shown, "goal": "reported", "met": None,
                "miss": "", "note": note}
    return _at_least(name, row["ceiling_fraction"], share, shown, note)


# Windowed against whole-image inference: the largest difference over hole pixels that
# still counts as the same output (tests/test_windows.py states and tests the same bound).
WINDOWS_TOLERANCE = 1e-3


def _windows_targets(windows: dict | None) -> list[dict]:
    if not windows:
        return []
    compare, memory = windows["compare"], windows["memory"]
    photo = (f"{compare['megapixels']:.3g} MP photo, {compare['blemishes']} blemishes, "
             f"{windows['model']}")
    if "whole_seconds" in compare:
        speed = _at_least(
            f"windowed inference speed-up over the whole image ({photo})", compare["speedup"],
            10.0, f"{compare['speedup']:.1f}x",
            f"windows {compare['windowed_median_seconds']:.2f} s (median of "
            f"{len(compare['windowed_seconds'])}), whole image {compare['whole_seconds']:.1f} s")
        difference = compare["max_abs_difference"]
        met = difference <= WINDOWS_TOLERANCE
        same = {"target": "windowed output = whole-image output (max abs difference, holes)",
                "measured": f"{difference:.2g}", "goal": f"<= {WINDOWS_TOLERANCE:g}",
                "met": met, "miss": "" if met else f"over by {difference / WINDOWS_TOLERANCE:.1f}x",
                "note": f"hole PSNR between them {compare['hole_psnr_between']:.1f} dB; known "
                        f"pixels equal: {'yes' if compare['known_pixels_equal'] else 'no'}"}
    else:
        skipped = {"measured": "not measured", "goal": "", "met": None, "miss": "",
                   "note": f"whole image not run: {compare['whole_skipped']}"}
        speed = {"target": f"windowed inference speed-up over the whole image ({photo})",
                 **skipped}
        same = {"target": "windowed output = whole-image output (max abs difference, holes)",
                **skipped}
    peak = memory["peak_rss_bytes"] / 1e9
    met = peak <= 4.0
    return [speed, same, {
        "target": f"peak memory, inpainting a {memory['megapixels']:.3g} MP photo with windows",
        "measured": f"{peak:.2f} GB", "goal": "<= 4 GB", "met": met,
        "miss": "" if met else f"over by {100 * (peak / 4 - 1):.0f}%",
        "note": f"{memory['peak_rss_before_inpainting_bytes'] / 1e9:.2f} GB before inpainting "
                f"(Python, TensorFlow, the model, the photo); {memory['blemishes']} "
                f"blemishes, {memory['seconds']:.1f} s (first call)"}]


# Tiles against the whole-image pass over hole pixels, on the hole shapes: thin shapes as
# for windows; half the photo in holes within the bound stated for a network with a
# harmonic prefill (photo_unet; inpaint's docstring, tests/test_tiles.py).
SHAPES_TOLERANCE = {"thin": 1e-3, "half": 5e-2}
SHAPE_COST_RATIO = 3.0  # time per hole pixel of a shape over blemishes', at most
SHAPE_MEMORY_GB = {"thin": 2.0, "half": 4.0}  # peak RSS at the largest size, at most


def _at_most(name: str, measured: float, limit: float, shown: str, note: str,
             unit: str = "") -> dict:
    met = measured <= limit
    miss = "" if met else f"over by {100 * (measured / limit - 1):.0f}%"
    return {"target": name, "measured": shown, "goal": f"<= {limit:g}{unit}", "met": met,
            "miss": miss, "note": note}


def _shape_targets(windows: dict | None) -> list[dict]:
    """Per thin shape, time per hole pixel within 3x of blemishes' at each size; the peak
    memory at the largest size; tiles equal to the whole pass where it fits."""
    rows = (windows or {}).get("shapes")
    if not rows:
        return []
    thin = [row for row in rows if row["kind"] != "half"]
    sizes = sorted({row["megapixels"] for row in thin})
    blemish = {row["megapixels"]: row["microseconds_per_hole_pixel"] for row in thin
               if row["kind"] == "blemishes"}
    found = []
    for kind in dict.fromkeys(row["kind"] for row in thin if row["kind"] != "blemishes"):
        ratios = {row["megapixels"]: row["microseconds_per_hole_pixel"]
                  / blemish[row["megapixels"]] for row in thin if row["kind"] == kind}
        found.append(_at_most(
            f"{kind}: time per hole pixel / blemishes' ({', '.join(f'{mp:.3g}' for mp in sizes)}"
            " MP)", max(ratios.values()), SHAPE_COST_RATIO,
            " / ".join(f"{ratios[mp]:.2f}x" for mp in sizes if mp in ratios),
            "; ".join(f"{row['megapixels']:.3g} MP: {row['microseconds_per_hole_pixel']:.1f} "
                      f"us per hole pixel, {row['model_pixels_per_hole_pixel']:.0f} model "
                      f"pixels each" for row in thin if row["kind"] == kind), "x"))
    largest = [row for row in thin if row["megapixels"] == sizes[-1]]
    peak = max(largest, key=lambda row: row["peak_rss_bytes"])
    found.append(_at_most(
        f"peak memory, every thin shape at {sizes[-1]:.3g} MP", peak["peak_rss_bytes"] / 1e9,
        SHAPE_MEMORY_GB["thin"], f"{peak['peak_rss_bytes'] / 1e9:.2f} GB ({peak['kind']})",
        ", ".join(f"{row['kind']} {row['peak_rss_bytes'] / 1e9:.2f}" for row in largest),
        " GB"))
    for row in rows:
        if row["kind"] == "half":
            found.append(_at_most(
                f"peak memory, half the photo in holes at {row['megapixels']:.3g} MP",
                row["peak_rss_bytes"] / 1e9, SHAPE_MEMORY_GB["half"],
                f"{row['peak_rss_bytes'] / 1e9:.2f} GB",
                f"{row['seconds']:.0f} s, {row['model_calls']} model calls", " GB"))
    for group, members in (("thin", thin), ("half", [r for r in rows if r["kind"] == "half"])):
        checked = [row for row in members if "check" in row]
        if not checked:
            continue
        worst = max(checked, key=lambda row: row["check"]["max_abs_difference"])
        size = "x".join(str(v) for v in reversed(worst["check"]["size"]))
        found.append(_at_most(
            f"tiles = whole-image pass, {'thin shapes' if group == 'thin' else 'half the photo'}"
            f" (max abs difference over holes, {size})", worst["check"]["max_abs_difference"],
            SHAPES_TOLERANCE[group], f"{worst['check']['max_abs_difference']:.2g}",
            ", ".join(f"{row['kind']} {row['check']['max_abs_difference']:.2g}"
                      for row in checked)))
    return found


def targets(results: dict) -> list[dict]:
    """One row per target of the issue: measured, goal, met, shortfall and a note."""
    rows = []
    reference = results.get("reference")
    if reference:
        for family in [reference, *reference.get("families", [])]:
            runs = {k: v["images_per_second"] for k, v in family["runs"].items()}
            rows.append(_at_least(
                f"{family['model']} training speed-up over the study's pipeline (batch "
                f"{family['batch_size']})", family["speedup"], 2.0,
                f"{family['speedup']:.2f}x",
                f"reference {runs['reference']:.0f} img/s; ours float32 "
                f"{runs['ours_float32']:.0f} ({family['speedup_float32']:.2f}x: pipeline), "
                f"mixed {runs['ours_mixed']:.0f} "
                f"({family['speedup'] / family['speedup_float32']:.2f}x more: precision)"))
    if results.get("training"):
        rows.append(_ceiling_target(results, "conv_autoencoder", 0.60))
        rows.append(_ceiling_target(results, "pconv_autoencoder", None))
        rows.append(_ceiling_target(results, "gan_joint", 0.40))
    if results.get("pipeline"):
        ours = [r for r in results["pipeline"] if r["pipeline"] == "make_dataset"]
        slowest = min(ours, key=lambda r: r["samples_per_second"])
        rows.append(_at_least(
            "input pipeline samples/s (slowest mask kind)", slowest["samples_per_second"],
            20_000, f"{slowest['samples_per_second']:,.0f}",
            "; ".join(f"{r['mask_kind']} {r['samples_per_second']:,.0f}" for r in ours)))
    if reference:
        cached = reference["runs"]["ours_mixed_cached_batch"]["images_per_second"]
        rows.append(_at_least(
            "training with real masks / on one cached batch", reference["real_over_cached"],
            0.95, f"{reference['real_over_cached']:.3f}",
            f"{reference['runs']['ours_mixed']['images_per_second']:.0f} vs {cached:.0f} img/s"
            " (conv_autoencoder, mixed)"))
    inference = results.get("inference")
    if inference:
        rows.append(_at_least(
            "SavedModel inference / Keras inference", inference["saved_model_over_keras"], 0.90,
            f"{inference['saved_model_over_keras']:.2f}",
            f"serve {inference['saved_model']['images_per_second']:.0f}, compiled call "
            f"{inference['keras_call']['images_per_second']:.0f}, predict "
            f"{inference['keras_predict']['images_per_second']:.0f} img/s"))
    rows += _windows_targets(results.get("windows"))
    rows += _shape_targets(results.get("windows"))
    memory = results.get("memory")
    if memory:
        met = memory["peak_rss_gb"] < 3.0
        rows.append({
            "target": "peak memory, training on the 40,000-image split",
            "measured": f"{memory['peak_rss_gb']:.2f} GB", "goal": "< 3 GB", "met": met,
            "miss": "" if met else f"over by {100 * (memory['peak_rss_gb'] / 3 - 1):.0f}%",
            "note": f"{memory['rss_before_training_bytes'] / 1e9:.2f} GB before training "
                    f"(Python, TensorFlow, {sum(memory['images']):,} images)"})
    accuracy = results.get("accuracy")
    if accuracy:
        f32, mixed = accuracy["float32"], accuracy["mixed"]
        met = accuracy["mixed_within_float32_spread"]
        gap = max(f32["min"] - mixed["mean"], mixed["mean"] - f32["max"], 0.0)
        rows.append({
            "target": "mixed-precision hole MAE within float32's seed spread",
            "measured": f"{mixed['mean']:.4f}", "goal": f"{f32['min']:.4f}..{f32['max']:.4f}",
            "met": met, "miss": "" if met else f"outside by {gap:.4f}",
            "note": f"float32 {f32['mean']:.4f} ± {f32['std']:.4f}, mixed {mixed['mean']:.4f}"
                    f" ± {mixed['std']:.4f} ({len(accuracy['seeds'])} seeds, "
                    f"{accuracy['steps']} steps, {accuracy['data']})"})
    return rows


# --------------------------------------------------------------------------- Markdown


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _yes_no(value) -> str:
    return "—" if value is None else ("yes" if value else "no")


def _targets_md(results: dict) -> str:
    return table(["target", "measured", "goal", "met", "miss", "from the measurements"],
                 [[t["target"], t["measured"], t["goal"], _yes_no(t["met"]), t["miss"],
                   t["note"]] for t in results["targets"]])


def _training_md(results: dict) -> str:
    return table(
        ["model", "batch", "precision", "XLA", "images/s", "fwd GFLOP/img",
         "train GFLOP/img", "GFLOP/s", "of ceiling"],
        [[r["model"], r["batch_size"], r["policy"], _yes_no(r["jit_compile"]),
          f"{r['images_per_second']:.1f}", f"{r['forward_gflop_per_image']:.3f}",
          f"{r['train_gflop_per_image']:.3f}", f"{r['achieved_gflops']:.1f}",
          f"{100 * r['ceiling_fraction']:.0f}%"] for r in results["training"]])


def _reference_md(reference: dict) -> str:
    rows = []
    for family in [reference, *reference.get("families", [])]:
        base = family["runs"]["reference"]["images_per_second"]
        rows += [[family["model"], name, f"{run['images_per_second']:.1f}",
                  f"{run['images_per_second'] / base:.2f}x"]
                 for name, run in family["runs"].items()]
    return table([f"model (batch {reference['batch_size']})", "run", "images/s",
                  "vs reference"], rows)


def _layers_md(rows: list[dict]) -> str:
    total = {key: sum(r[key] for r in rows) for key in ("float32_ms", "mixed_ms")}
    return table(["layer", "kind", "input", "float32 ms", "mixed ms", "mixed speed-up"],
                 [[r["layer"], r["kind"], " + ".join("x".join(map(str, shape))
                                                     for shape in r["input_shapes"]),
                   f"{r['float32_ms']:.2f}", f"{r['mixed_ms']:.2f}",
                   f"{r['mixed_speedup']:.2f}x"] for r in rows]
                 + [["all", "", "", f"{total['float32_ms']:.1f}", f"{total['mixed_ms']:.1f}",
                     f"{total['float32_ms'] / total['mixed_ms']:.2f}x"]])


def _pipeline_md(rows: list[dict]) -> str:
    return table(["pipeline", "mask kind", "batch", "samples/s"],
                 [[r["pipeline"], r["mask_kind"], r["batch_size"],
                   f"{r['samples_per_second']:,.0f}"] for r in rows])


def _inference_md(inference: dict) -> str:
    names = ("keras_call", "keras_predict", "saved_model")
    return table([f"path ({inference['model']}, {inference['precision']})",
                  f"images/s (batch {inference['batch_size']})", "batch-1 latency (ms)"],
                 [[name, f"{inference[name]['images_per_second']:.1f}",
                   f"{inference[name]['latency_ms_batch1']:.2f}"] for name in names])


def _windows_md(result: dict) -> str:
    compare, memory = result["compare"], result["memory"]
    height, width = compare["size"]
    whole = compare.get("whole_seconds")
    rows = [[f"{width}x{height} ({compare['megapixels']:.3g} MP), {compare['blemishes']} "
             f"blemishes ({compare['hole_pixels']:,} hole pixels)",
             f"{compare['windowed_median_seconds']:.2f}",
             "not run" if whole is None else f"{whole:.1f}",
             "" if whole is None else f"{compare['speedup']:.1f}x",
             "" if whole is None else f"{compare['max_abs_difference']:.2g}",
             f"{compare['peak_rss_after_windowed_bytes'] / 1e9:.2f}",
             "" if whole is None else f"{compare['peak_rss_after_whole_bytes'] / 1e9:.2f}"]]
    height, width = memory["size"]
    rows.append([f"{width}x{height} ({memory['megapixels']:.3g} MP), {memory['blemishes']} "
                 "blemishes", f"{memory['seconds']:.2f}", "", "", "",
                 f"{memory['peak_rss_bytes'] / 1e9:.2f}", ""])
    return table([f"photo ({result['model']})", "windows (s)", "whole image (s)", "speed-up",
                  "max hole difference", "peak RSS with windows (GB)",
                  "peak RSS, whole image (GB)"], rows)


def _shapes_md(result: dict) -> str:
    """One row per hole shape and size: holes, the model's work, time, memory, and the
    difference from the whole pass where it was checked."""
    rows = result.get("shapes") or []
    blemish = {row["megapixels"]: row["microseconds_per_hole_pixel"] for row in rows
               if row["kind"] == "blemishes"}
    lines = []
    for row in rows:
        height, width = row["size"]
        ratio = blemish.get(row["megapixels"])
        check = row.get("check")
        lines.append([
            row["kind"], f"{width}x{height} ({row['megapixels']:.3g} MP)",
            f"{row['hole_pixels']:,} ({100 * row['hole_share']:.2f} %)",
            f"{row['model_pixels_per_hole_pixel']:.0f} ({row['model_calls']} calls)",
            f"{row['seconds']:.2f}", f"{row['microseconds_per_hole_pixel']:.2f}",
            "" if ratio is None or row["kind"] == "half"
            else f"{row['microseconds_per_hole_pixel'] / ratio:.2f}x",
            f"{row['peak_rss_bytes'] / 1e9:.2f}",
            "" if check is None else f"{check['max_abs_difference']:.2g}"])
    if not lines:
        return ""
    model = rows[0]["model"]
    return table([f"holes ({model})", "photo", "hole pixels", "model pixels per hole pixel",
                  "seconds", "us per hole pixel", "vs blemishes", "peak RSS (GB)",
                  "max hole difference from the whole pass"], lines)


def _folders_md(result: dict) -> str:
    from _folders import folders_md

    return folders_md(result)


def _xla_md(rows: list[dict]) -> str:
    return table(["model", "batch", "precision", "images/s without XLA", "with XLA",
                  "XLA wins"],
                 [[r["model"], r["batch_size"], r["precision"], f"{r['without_xla']:.1f}",
                   f"{r['with_xla']:.1f} ({r['xla_speedup']:.2f}x)", _yes_no(r["xla_wins"])]
                  for r in rows])


def _accuracy_md(accuracy: dict) -> str:
    rows = [[precision, *(f"{v:.5f}" for v in accuracy[precision]["values"]),
             f"{accuracy[precision]['mean']:.5f}", f"{accuracy[precision]['std']:.5f}"]
            for precision in ("float32", "mixed")]
    return table(["precision", *(f"seed {s}" for s in accuracy["seeds"]), "mean", "std"],
                 rows)


def markdown(results: dict) -> str:
    """The run as a dated Markdown section."""
    machine, ceiling = results["machine"], results["ceiling"]
    load = results["load_average"]
    parts = [
        f"## {results['date']} — {machine['device']}{' (quick mode)' if results['quick'] else ''}",
        f"`{results['command']}`: {results['wall_seconds'] / 60:.1f} minutes. TensorFlow "
        f"{machine['tensorflow']}, Keras {machine['keras']}, Python {machine['python']}. "
        f"Load average (1 min) {load['start'][0]:.2f} at the start, {load['end'][0]:.2f} at "
        f"the end, on {machine['cores']} cores{load['note']}.",
        "### Targets", _targets_md(results),
        "### Matmul ceiling",
        table(["dtype", f"GFLOP/s ({ceiling['size']}x{ceiling['size']} matmul)"],
              [[ceiling["float32_dtype"], f"{ceiling['float32']:.1f}"],
               [ceiling["mixed_dtype"], f"{ceiling['mixed']:.1f}"]]),
    ]
    sections = (
        ("training", "### Training throughput (fit on make_dataset; FLOPs from the graph "
                     "by TensorFlow's profiler)", _training_md),
        ("reference", "### The study's pipeline against ours (windows taken in turn)",
         lambda r: _reference_md(r["reference"])),
        ("layers", "### Conv autoencoder layer by layer (forward + backward, batch "
                   "of the reference comparison, each layer alone)",
         lambda r: _layers_md(r["layers"])),
        ("pipeline", "### Input pipeline (no model)", lambda r: _pipeline_md(r["pipeline"])),
        ("inference", "### Inference", lambda r: _inference_md(r["inference"])),
        ("windows", "### Inference on windows around the holes (photo-sized, CPU; the "
                    "whole-image pass for comparison)", lambda r: _windows_md(r["windows"])),
        ("windows", "### Inference by hole shape: windows and tiles (CPU; the difference "
                    "from the whole pass: the same shape at a size where that fits)",
         lambda r: _shapes_md(r["windows"])),
        ("folders", "### A folder of photos: `inpaint_folder` against the model alone "
                    "(one mask, JPEGs, CPU)", lambda r: _folders_md(r["folders"])),
        ("xla", "### XLA (`jit_compile`)", lambda r: _xla_md(r["xla"])),
        ("accuracy", "### Mixed precision and accuracy (hole MAE)",
         lambda r: _accuracy_md(r["accuracy"])),
    )
    for key, title, render in sections:
        text = render(results) if results.get(key) else ""
        if text:
            parts += [title, text]
    return "\n\n".join(parts) + "\n"


def append_section(path, section: str) -> None:
    """Appends `section` to the Markdown file at `path`, creating it with a header."""
    path = Path(path)
    text = path.read_text() if path.is_file() else HEADER
    path.write_text(text.rstrip("\n") + "\n\n" + section)
