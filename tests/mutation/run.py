"""Mutation testing of the library's logic modules with mutmut 3 (`make mutate`).

Each module of `modules.toml` is mutated on its own, against only the test files that
cover it: the runner copies the working tree (the files git tracks or would track)
into ``runs/mutation/<module>/``, adds a ``[tool.mutmut]`` table for that module to
the copy's ``pyproject.toml`` and runs ``mutmut run`` there. mutmut puts every mutant
of a function behind a switch, imports the tests once in a fork server (TensorFlow
included) and forks one worker per mutant, so a mutant costs the tests that call its
function, not a fresh interpreter. Each mutant has a wall-clock limit (mutmut's: 15
times the duration of its tests, plus 15 s).

Mutants whose every change is to an exception's message are not made (a ``raise``
statement is left alone, as are warnings and prints): they change words, not
behaviour. A mutant that the tests cannot tell apart from the original because it
computes the same thing is *equivalent*; each one the tests leave alive is listed,
with the reason, in ``equivalent.toml`` and counted apart. The kill rate is

    killed / (mutants - equivalent)

where *killed* includes mutants stopped by the time limit (an endless loop is a caught
bug). The report (``runs/mutation/report.md``, also printed) gives the rate per module
and the diff of every surviving mutant. To look at one more closely:

    cd runs/mutation/<module> && ../../../.venv/bin/mutmut show <mutant name>

Usage:
    python tests/mutation/run.py                    # every module (about an hour)
    python tests/mutation/run.py masks evaluation   # some of them
    python tests/mutation/run.py --list             # modules, files, tests

Exit status 1 when a module's kill rate is under ``--fail-under`` (default 90 %).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MODULES_FILE = HERE / "modules.toml"
EQUIVALENT_FILE = HERE / "equivalent.toml"

# Lines never mutated: the text of errors, warnings and prints (their words are not
# behaviour; the tests check that each error is raised, and where, not its wording).
DO_NOT_MUTATE = [r"^\s*raise ", r"warnings\.warn\(", r"\bprint\(", r"logger\.\w+\("]
# pytest's unraisable-exception plugin runs gc.collect() five times per session: in a
# worker forked from a process holding TensorFlow that is 2 s of every mutant's run.
PYTEST_ARGS = ["-p", "no:cacheprovider", "-p", "no:unraisableexception", "-m", "not slow"]
KILLED = {"killed", "timeout", "segfault"}  # mutmut's names; a SIGKILL reads "segfault"


def load_modules() -> dict[str, dict]:
    return tomllib.loads(MODULES_FILE.read_text())["module"]


def load_equivalents() -> list[dict]:
    if not EQUIVALENT_FILE.is_file():
        return []
    return tomllib.loads(EQUIVALENT_FILE.read_text()).get("equivalent", [])


def _source_files() -> list[str]:
    """The working tree's files that git tracks or would track (no venv, no runs)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def _toml_list(values) -> str:
    return "[" + ", ".join(json.dumps(str(v)) for v in values) + "]"


def prepare(name: str, spec: dict, work: Path) -> None:
    """A copy of the working tree in `work` with mutmut configured for one module."""
    if work.exists():
        shutil.rmtree(work)
    for file in _source_files():
        target = work / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / file, target)
    top_level = sorted({Path(file).parts[0] for file in _source_files()}
                       - {"inpaint_tf", "tests", "pyproject.toml", "setup.cfg"})
    config = "\n".join([
        "", "", "[tool.mutmut]",
        'source_paths = ["inpaint_tf"]',
        f"only_mutate = {_toml_list(spec['paths'])}",
        f"also_copy = {_toml_list(top_level)}",
        f"pytest_add_cli_args_test_selection = {_toml_list(spec['tests'])}",
        f"pytest_add_cli_args = {_toml_list(PYTEST_ARGS)}",
        f"do_not_mutate_patterns = {_toml_list(DO_NOT_MUTATE)}",
        'process_isolation = "forkserver"',
        "timeout_constant = 1.0",
        "timeout_multiplier = 15.0",
        "",
    ])
    with open(work / "pyproject.toml", "a") as handle:
        handle.write(config)


def mutant_globs(spec: dict) -> list[str]:
    """mutmut's names of the mutants to run: all of the module's, or those of the
    functions `spec` lists."""
    globs = []
    for path in spec["paths"]:
        module = _dotted(path)
        functions = spec.get("functions")
        if not functions:
            globs.append(f"{module}.*")
        else:
            globs += [f"{module}.x_{function}__mutmut_*" for function in functions]
    return globs


def run_mutmut(work: Path, spec: dict, jobs: int, log: Path) -> float:
    started = time.perf_counter()
    mutmut = Path(sys.executable).with_name("mutmut")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0")
    with open(log, "w") as output:
        subprocess.run([str(mutmut), "run", "--max-children", str(jobs),
                        *(mutant_globs(spec) if spec.get("functions") else [])],
                       cwd=work, stdout=output, stderr=subprocess.STDOUT, env=env, check=False)
    return time.perf_counter() - started


def function_of(key: str, module: str) -> str:
    """`inpaint_tf.masks.x_center_box_masks__mutmut_3` -> `center_box_masks`;
    methods read `Class.method`."""
    name = key[len(module) + 1:].rsplit("__mutmut_", 1)[0]
    if name.startswith("xǁ"):
        return ".".join(part for part in name[2:].split("ǁ") if part)
    return name[2:] if name.startswith("x_") else name


def results(work: Path, spec: dict) -> dict[str, str]:
    """{mutant name: mutmut's status} of the module's selected mutants."""
    from mutmut.stats import status_by_exit_code

    globs = mutant_globs(spec)
    statuses = {}
    for path in spec["paths"]:
        meta = work / "mutants" / f"{path}.meta"
        if not meta.is_file():
            raise RuntimeError(f"mutmut wrote no results for {path}: see {work}/mutmut.log")
        for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if any(re.fullmatch(re.escape(g).replace(r"\*", ".*"), key) for g in globs):
                statuses[key] = status_by_exit_code[code]
    return statuses


def diff_of(work: Path, key: str, path: str) -> str:
    """The changed lines of a mutant (what `mutmut show` prints), read in this process:
    a `mutmut show` per mutant would import mutmut a few hundred times."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    previous = Path.cwd()
    os.chdir(work)
    try:
        shown = get_diff_for_mutant(key, path=path)
    finally:
        os.chdir(previous)
    return "\n".join(line for line in shown.splitlines()
                     if line[:1] in "-+" and not line.startswith(("---", "+++")))


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def changed_lines(diff: str) -> tuple[str, str]:
    removed = "\n".join(line[1:] for line in diff.splitlines() if line.startswith("-"))
    added = "\n".join(line[1:] for line in diff.splitlines() if line.startswith("+"))
    return _squeeze(removed), _squeeze(added)


def equivalent_entry(name: str, function: str, diff: str, equivalents: list[dict]):
    removed, added = changed_lines(diff)
    for entry in equivalents:
        if (entry["module"], entry["function"]) == (name, function) and \
                (_squeeze(entry["original"]), _squeeze(entry["mutant"])) == (removed, added):
            return entry
    return None


def _dotted(path: str) -> str:
    return path[:-len(".py")].replace("/", ".")


def score(name: str, spec: dict, work: Path, equivalents: list[dict]) -> dict:
    statuses = results(work, spec)
    survivors, equivalent, used = [], [], set()
    for key, status in sorted(statuses.items(), key=lambda item: _natural(item[0])):
        if status in KILLED:
            continue
        path = next(p for p in spec["paths"] if key.startswith(_dotted(p) + "."))
        function = function_of(key, _dotted(path))
        diff = diff_of(work, key, path)
        entry = equivalent_entry(name, function, diff, equivalents)
        if entry is not None:
            equivalent.append((key, entry))
            used.add(id(entry))
        else:
            survivors.append((key, status, function, diff))
    counts = {status: list(statuses.values()).count(status) for status in set(statuses.values())}
    killed = sum(counts.get(s, 0) for s in KILLED)
    scored = len(statuses) - len(equivalent)
    stale = [e for e in equivalents if e["module"] == name and id(e) not in used]
    return {"module": name, "total": len(statuses), "killed": killed,
            "timeout": counts.get("timeout", 0) + counts.get("segfault", 0),
            "equivalent": len(equivalent), "survived": len(survivors),
            "rate": 100.0 * killed / scored if scored else 100.0,
            "survivors": survivors, "equivalents": equivalent, "stale": stale}


def _natural(key: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def report(rows: list[dict], minutes: dict[str, float], command: str) -> str:
    lines = [
        "# Mutation testing report",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, `{command}`",
        "",
        "| module | mutants | killed (by timeout) | equivalent | survived | kill rate | minutes |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['module']} | {row['total']} | {row['killed']} ({row['timeout']}) "
                     f"| {row['equivalent']} | {row['survived']} | {row['rate']:.1f} % "
                     f"| {minutes[row['module']]:.1f} |")
    total = {k: sum(row[k] for row in rows) for k in ("total", "killed", "equivalent",
                                                       "survived", "timeout")}
    scored = total["total"] - total["equivalent"]
    rate = 100.0 * total["killed"] / scored if scored else 100.0
    lines.append(f"| all | {total['total']} | {total['killed']} ({total['timeout']}) "
                 f"| {total['equivalent']} | {total['survived']} | {rate:.1f} % "
                 f"| {sum(minutes.values()):.1f} |")
    lines += ["", "Kill rate = killed / (mutants - equivalent); the equivalent mutants and "
              "why are in tests/mutation/equivalent.toml."]
    for row in rows:
        if row["survivors"]:
            lines += ["", f"## Survivors in {row['module']}", ""]
            for key, status, function, diff in row["survivors"]:
                lines += [f"`{key}` ({status}, in `{function}`)", "", "```diff", diff, "```", ""]
        if row["equivalents"]:
            lines += ["", f"## Counted as equivalent in {row['module']}", ""]
            lines += [f"- `{key}` (`{entry['function']}`): {_squeeze(entry['why'])}"
                      for key, entry in row["equivalents"]]
        if row["stale"]:
            lines += ["", f"## Equivalent entries of {row['module']} that matched no survivor",
                      ""]
            lines += [f"- `{e['function']}`: `{_squeeze(e['mutant'])}`" for e in row["stale"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="modules of modules.toml (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                        help="mutants tested at once (default: the CPU count)")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "mutation")
    parser.add_argument("--fail-under", type=float, default=90.0)
    parser.add_argument("--list", action="store_true", help="list the modules and exit")
    args = parser.parse_args(argv)
    modules = load_modules()
    if args.list:
        for name, spec in modules.items():
            functions = f" (functions: {', '.join(spec['functions'])})" \
                if spec.get("functions") else ""
            print(f"{name}: {', '.join(spec['paths'])}{functions}\n    tests: "
                  f"{', '.join(spec['tests'])}")
        return 0
    unknown = sorted(set(args.modules) - set(modules))
    if unknown:
        parser.error(f"unknown modules {unknown}; known: {sorted(modules)}")
    chosen = args.modules or list(modules)
    equivalents = load_equivalents()
    args.out.mkdir(parents=True, exist_ok=True)
    rows, minutes = [], {}
    for name in chosen:
        spec, work = modules[name], args.out / name
        print(f"{name}: mutating {', '.join(spec['paths'])} against "
              f"{len(spec['tests'])} test files ...", flush=True)
        prepare(name, spec, work)
        minutes[name] = run_mutmut(work, spec, args.jobs, work / "mutmut.log") / 60
        try:
            row = score(name, spec, work, equivalents)
        except (RuntimeError, OSError) as error:  # mutmut stopped: its log says why
            print(f"    no results: {error}", flush=True)
            row = {"module": name, "total": 0, "killed": 0, "timeout": 0, "equivalent": 0,
                   "survived": 0, "rate": 0.0, "survivors": [], "equivalents": [],
                   "stale": []}
        rows.append(row)
        print(f"    {row['killed']} of {row['total']} killed, {row['equivalent']} equivalent, "
              f"{row['survived']} survived: {row['rate']:.1f} % "
              f"({minutes[name]:.1f} min)", flush=True)
    command = "python tests/mutation/run.py" + "".join(f" {m}" for m in args.modules)
    text = report(rows, minutes, command)
    (args.out / "report.md").write_text(text)
    print("\n" + text.split("\n\nKill rate")[0].split("\n\n", 1)[1])
    print(f"\nReport with every survivor's diff: {args.out / 'report.md'}")
    below = [row["module"] for row in rows if row["rate"] < args.fail_under]
    if below:
        print(f"Under {args.fail_under:g} %: {', '.join(below)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
