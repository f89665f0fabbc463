"""A GAN run's adversarial game, checkpoint by checkpoint: does the discriminator tell
real from completed images, and how far does the adversarial term move the generator
beside the hole MSE? (`inpaint_tf.training.gan_diagnostics.diagnose_gan_run` on the
run's validation images and holes, both networks in training mode as in a joint step.)

    python benchmarks/gan_diagnostics.py RUN [CHECKPOINT ...] [--images 640]

Without checkpoints, the run's last. Prints a table and writes the record (date,
machine, command, wall time, rows) to ``RUN/diagnostics.json`` unless ``--json`` says
otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

COLUMNS = ("epoch", "hole_mse", "real_score", "fake_score", "discriminator_accuracy",
           "real_err", "fake_err", "adversarial_share", "gradient_cosine")


def main(argv=None) -> dict:
    from _report import table
    from run import machine

    from inpaint_tf.training.gan_diagnostics import diagnose_gan_run

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a GAN run folder")
    parser.add_argument("checkpoints", nargs="*", type=Path,
                        help="its weight files (default: its last checkpoint)")
    parser.add_argument("--images", type=int, default=640, help="validation images")
    parser.add_argument("--json", type=Path, default=None,
                        help="where the record goes (default RUN/diagnostics.json)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = diagnose_gan_run(args.run, sorted(args.checkpoints) or None, images=args.images)
    print(table(list(COLUMNS), [[f"{row[key]:.4g}" for key in COLUMNS] for row in rows]))
    record = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "command": " ".join(["python benchmarks/gan_diagnostics.py",
                                   *(argv if argv is not None else sys.argv[1:])]),
              "machine": machine(), "images": args.images,
              "wall_seconds": round(time.perf_counter() - started, 1), "rows": rows}
    path = args.json or args.run / "diagnostics.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"Record: {path}")
    return record


if __name__ == "__main__":
    main()
