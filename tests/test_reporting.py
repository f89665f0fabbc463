import json

import numpy as np
import pytest

from inpaint_tf import reporting
from inpaint_tf.experiments import STUDY_RESULTS, load_config, save_config


def _row(**values):
    row = dict(name="x", masks="center_box", n=32, hole_share=0.06, study_mae=0.01,
               study_mse=0.001, study_dice=0.6, dice_ceiling=0.61, hole_mae=0.08,
               hole_mse=0.012, hole_psnr=19.2, hole_ssim=0.7, hole_dice=0.55,
               hole_dice_ceiling=0.58, mask_checksum="abc", seconds=1.0)
    row.update(values)
    return row


def _run_folder(tmp_path, name, experiment, test_row):
    folder = tmp_path / name
    folder.mkdir()
    metrics = dict(config=name, study_experiment=experiment, test=test_row, epochs=2,
                   train_seconds=600.0, device="CPU (2 cores)", precision="mixed_bfloat16",
                   batch_size=32, steps_per_epoch="full", data_source="cifar.npz",
                   test_checksum="0123")
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_each_row_is_scored_under_the_protocol_the_study_used(tmp_path):
    autoencoder = _run_folder(tmp_path, "exp1", 1, _row(study_mse=0.0009, study_mae=0.012))
    gan = _run_folder(tmp_path, "exp6", 6, _row(masks="gan_rectangle", hole_mse=0.02,
                                                 hole_mae=0.07))
    text = reporting.build_report([autoencoder, gan], tmp_path / "RESULTS.md",
                                  baselines=False, command="inpaint-tf report ...")
    study_table = text.split("## Hole-only")[0]
    exp1_line = next(line for line in study_table.splitlines() if line.startswith("| exp1"))
    exp6_line = next(line for line in study_table.splitlines() if line.startswith("| exp6"))
    # exp1: raw output over the whole image, beats the study (0.0009 < 0.00108, 0.012 < 0.016).
    assert "raw, whole image" in exp1_line and "0.0009" in exp1_line
    assert exp1_line.rstrip(" |").endswith("yes")
    # exp6: clamped output over the hole; MSE 0.02 > the study's 0.0129: not beaten.
    assert "clamped, hole only" in exp6_line and "0.02 " in exp6_line
    assert exp6_line.rstrip(" |").endswith("no")
    assert str(STUDY_RESULTS[6]["mse"]) in exp6_line
    assert (tmp_path / "RESULTS.md").read_text() == text
    assert "inpaint-tf report ..." in text


def test_own_configs_have_no_study_figures_and_gans_are_scored_on_the_hole(tmp_path):
    own_gan = _run_folder(tmp_path, "own_gan", 0, _row(masks="irregular", hole_mse=0.0123,
                                                       study_mse=0.0456))
    save_config(load_config("own_gan_irregular_phased"), own_gan / "config.toml")
    own_conv = _run_folder(tmp_path, "own_conv", 0, _row(masks="irregular", study_mse=0.0789))
    save_config(load_config("own_conv_autoencoder_mask_input_irregular"),
                own_conv / "config.toml")
    text = reporting.build_report([own_gan, own_conv], tmp_path / "R.md", baselines=False)
    study_table = text.split("## Hole-only")[0]
    gan_line = next(line for line in study_table.splitlines() if line.startswith("| own_gan"))
    conv_line = next(line for line in study_table.splitlines()
                     if line.startswith("| own_conv"))
    assert "clamped, hole only" in gan_line and "0.0123" in gan_line
    assert "raw, whole image" in conv_line and "0.0789" in conv_line
    assert "nan" not in text
    assert conv_line.rstrip(" |").endswith("| - | - | - | - | -")


def test_baselines_share_the_runs_masks(tmp_path, tiny_images):
    data = tmp_path / "cifar.npz"
    x_train = np.resize(tiny_images, (10_016, 32, 32, 3))  # more than the validation split
    np.savez(data, x_train=x_train, y_train=np.zeros(len(x_train), int),
             x_test=np.concatenate([tiny_images] * 2), y_test=np.zeros(32, int))
    run = _run_folder(tmp_path, "exp1", 1, _row(hole_psnr=99.0))
    text = reporting.build_report([run], tmp_path / "R.md", data=str(data))
    hole_table = text.split("## Hole-only")[1].split("## Runs")[0]
    assert "navier_stokes" in hole_table and "telea" in hole_table
    assert "| exp1 | center_box" in hole_table and "| yes |" in hole_table
    assert "nan" not in hole_table


def test_unfinished_runs_are_refused(tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(FileNotFoundError, match="not a finished run"):
        reporting.build_report([tmp_path / "half"], tmp_path / "R.md", baselines=False)
    with pytest.raises(ValueError, match="No run folders"):
        reporting.build_report([], tmp_path / "R.md")
