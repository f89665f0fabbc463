import subprocess
import sys

import numpy as np
import pytest

from inpaint_tf import cli


@pytest.fixture
def cifar_npz(tmp_path, tiny_images):
    path = tmp_path / "cifar.npz"
    train = np.concatenate([tiny_images] * 2)
    np.savez(path, x_train=np.concatenate([train] * 400), y_train=np.zeros(12800, np.int64),
             x_test=train, y_test=np.zeros(32, np.int64))
    return path


def test_baselines_prints_and_writes_a_table(cifar_npz, tmp_path, capsys):
    out = tmp_path / "baselines.md"
    code = cli.main(["baselines", "--data", str(cifar_npz), "--n", "32", "--masks",
                     "center_box,irregular", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.count("navier_stokes") == 2 and "hole_psnr" in printed
    assert out.read_text().strip() == printed.strip()


def test_bad_input_is_one_line_and_exit_code_2(cifar_npz, capsys):
    code = cli.main(["baselines", "--data", str(cifar_npz), "--masks", "circles"])
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("inpaint-tf: error: Unknown mask kind") and "\n" not in error


def test_missing_data_is_reported_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "inpaint_tf.cli", "baselines", "--data",
                             str(tmp_path / "none")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "CIFAR-10 source not found" in result.stderr


def test_every_command_has_help_with_an_example(capsys):
    for name in cli.COMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            cli.main([name, "--help"])
        assert exit_info.value.code == 0
        assert "example:" in capsys.readouterr().out
