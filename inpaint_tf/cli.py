"""The ``inpaint-tf`` command line: every command is one library call away.

Errors are one line on stderr and exit code 2 (bad input) or 1 (anything
else), never a traceback; ``INPAINT_TF_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1

COMMANDS = {}


def command(name: str, help_text: str, example: str):
    """Registers `function(args)` as a sub-command; `configure(parser)` adds its options."""

    def register(function):
        COMMANDS[name] = (function, help_text, example)
        return function

    return register


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inpaint-tf",
        description="Deep image inpainting with Keras: train, evaluate, inpaint, export.",
        epilog="Run 'inpaint-tf COMMAND --help' for a command's options and an example.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (function, help_text, example) in COMMANDS.items():
        sub = subparsers.add_parser(
            name, help=help_text, description=help_text,
            epilog="example:\n" + textwrap.indent(example, "  "),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        function.configure(sub)
        sub.set_defaults(handler=function)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``inpaint-tf`` console script."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out
    args = _parser().parse_args(argv)
    try:
        args.handler(args)
    except KeyboardInterrupt:
        print("inpaint-tf: interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, TypeError, KeyError) as error:
        return _fail(error, EXIT_BAD_INPUT)
    except Exception as error:  # noqa: BLE001 - the CLI reports, it does not crash
        return _fail(error, EXIT_FAILURE)
    return 0


def _fail(error: BaseException, code: int) -> int:
    if os.environ.get("INPAINT_TF_DEBUG"):
        raise error
    message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    print(f"inpaint-tf: error: {message}", file=sys.stderr)
    return code


# --------------------------------------------------------------------------- commands


def _add_data_option(parser):
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="local CIFAR-10 copy (default: $INPAINT_TF_DATA, else download)")


@command("baselines", "Score the classical baselines on the CIFAR-10 test set.",
         "inpaint-tf baselines --masks irregular --n 10000 --out baselines.md")
def baselines_command(args):
    from inpaint_tf.baselines import BASELINES, run_baselines
    from inpaint_tf.data import load_cifar10
    from inpaint_tf.evaluation import format_markdown, write_table
    from inpaint_tf.masks import eval_masks

    test = load_cifar10(args.data).test
    n = min(args.n, len(test.images))
    kinds = args.masks.split(",")
    tables = []
    for kind in kinds:
        masks = eval_masks(kind, n, height=test.images.shape[1], width=test.images.shape[2])
        names = args.baselines.split(",") if args.baselines else list(BASELINES)
        tables.append(run_baselines(test.images[:n], masks, mask_kind=kind,
                                    fill_value=args.fill_value, names=names))
    import pandas as pd

    table = pd.concat(tables, ignore_index=True)
    print(format_markdown(table))
    if args.out:
        write_table(table, args.out)


def _configure_baselines(parser):
    from inpaint_tf.masks import MASK_KINDS

    parser.add_argument("--masks", default=",".join(MASK_KINDS),
                        help=f"mask kinds, comma-separated (default: all of {MASK_KINDS})")
    parser.add_argument("--n", type=int, default=10_000, help="test images (default 10000)")
    parser.add_argument("--baselines", default=None,
                        help="comma-separated subset of identity,mean_fill,telea,navier_stokes")
    parser.add_argument("--fill-value", type=float, default=0.0,
                        help="value in the holes of the input (default 0)")
    parser.add_argument("--out", default=None, help="also write the table (.md or .csv)")
    _add_data_option(parser)


baselines_command.configure = _configure_baselines


if __name__ == "__main__":
    sys.exit(main())
