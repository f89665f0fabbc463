import pickle

import cv2
import numpy as np
import pytest

from inpaint_tf import data as D
from inpaint_tf.masks import generate_masks

N_TRAIN, N_TEST, N_VAL = 30, 10, 6


@pytest.fixture
def cifar_arrays(rng):
    return {
        "x_train": rng.integers(0, 256, (N_TRAIN, 32, 32, 3), dtype=np.uint8),
        "y_train": np.arange(N_TRAIN) % 10,
        "x_test": rng.integers(0, 256, (N_TEST, 32, 32, 3), dtype=np.uint8),
        "y_test": np.arange(N_TEST) % 10,
    }


def _write_npz(folder, arrays):
    path = folder / "cifar.npz"
    np.savez(path, **arrays)
    return path


def _write_pickle_batches(folder, arrays):
    root = folder / "cifar-10-batches-py"
    root.mkdir()
    chunks = np.array_split(np.arange(N_TRAIN), 5)
    for index, chunk in enumerate(chunks, start=1):
        batch = {b"data": arrays["x_train"][chunk].transpose(0, 3, 1, 2).reshape(len(chunk), -1),
                 b"labels": arrays["y_train"][chunk].tolist()}
        (root / f"data_batch_{index}").write_bytes(pickle.dumps(batch))
    test = {b"data": arrays["x_test"].transpose(0, 3, 1, 2).reshape(N_TEST, -1),
            b"labels": arrays["y_test"].tolist()}
    (root / "test_batch").write_bytes(pickle.dumps(test))
    return folder  # the parent of cifar-10-batches-py works too


def _write_tree(folder, arrays):
    root = folder / "tree"
    for split in ("train", "test"):
        for name in D.CIFAR10_CLASSES:
            (root / split / name).mkdir(parents=True)
        for index, (image, label) in enumerate(zip(arrays[f"x_{split}"], arrays[f"y_{split}"])):
            path = root / split / D.CIFAR10_CLASSES[label] / f"img_{index:04d}.png"
            cv2.imwrite(str(path), image[:, :, ::-1])
    return root


def test_npz_layout_gives_the_study_split(tmp_path, cifar_arrays):
    split = D.load_cifar10(_write_npz(tmp_path, cifar_arrays), validation_size=N_VAL)
    np.testing.assert_array_equal(split.validation.images, cifar_arrays["x_train"][:N_VAL])
    np.testing.assert_array_equal(split.train.images, cifar_arrays["x_train"][N_VAL:])
    np.testing.assert_array_equal(split.test.images, cifar_arrays["x_test"])
    np.testing.assert_array_equal(split.train.labels, cifar_arrays["y_train"][N_VAL:])
    (x_train, _), (x_val, _), (x_test, _) = split  # unpacks like keras.datasets
    assert x_train.dtype == np.uint8 and x_train.shape == (N_TRAIN - N_VAL, 32, 32, 3)


def test_pickle_layout_equals_the_npz(tmp_path, cifar_arrays):
    split = D.load_cifar10(_write_pickle_batches(tmp_path, cifar_arrays), validation_size=N_VAL)
    np.testing.assert_array_equal(split.validation.images, cifar_arrays["x_train"][:N_VAL])
    np.testing.assert_array_equal(split.test.labels, cifar_arrays["y_test"])
    direct = D.load_cifar10(tmp_path / "cifar-10-batches-py", validation_size=N_VAL)
    np.testing.assert_array_equal(direct.train.images, split.train.images)


def test_class_tree_layout_sorted_then_permuted_and_cached(tmp_path, cifar_arrays, monkeypatch):
    root = _write_tree(tmp_path, cifar_arrays)
    cache = tmp_path / "cache"
    split = D.load_cifar10(root, validation_size=N_VAL, cache_dir=cache)
    # Documented order: by class then file name, then a fixed permutation (seed 0).
    order = sorted(range(N_TRAIN), key=lambda i: (cifar_arrays["y_train"][i], i))
    permuted = np.array(order)[np.random.default_rng(D.TREE_SPLIT_SEED).permutation(N_TRAIN)]
    np.testing.assert_array_equal(split.validation.images,
                                  cifar_arrays["x_train"][permuted[:N_VAL]])
    np.testing.assert_array_equal(split.train.labels, cifar_arrays["y_train"][permuted[N_VAL:]])
    assert len(list(cache.glob("cifar10-tree-*.npz"))) == 1
    # The second load reads the cache: decoding is not called again.
    monkeypatch.setattr(D.cifar10, "_decode_images", lambda *a, **k: pytest.fail("decoded again"))
    again = D.load_cifar10(root, validation_size=N_VAL, cache_dir=cache)
    np.testing.assert_array_equal(again.train.images, split.train.images)


def test_environment_variable_names_the_source(tmp_path, cifar_arrays, monkeypatch):
    monkeypatch.setenv("INPAINT_TF_DATA", str(_write_npz(tmp_path, cifar_arrays)))
    assert len(D.load_cifar10(validation_size=N_VAL).test.images) == N_TEST


def test_source_label_names_the_copy_actually_read(tmp_path, monkeypatch):
    monkeypatch.delenv("INPAINT_TF_DATA", raising=False)
    assert D.cifar10_source_label() == "keras.datasets.cifar10"
    monkeypatch.setenv("INPAINT_TF_DATA", str(tmp_path / "env.npz"))
    assert D.cifar10_source_label() == str(tmp_path / "env.npz")
    assert D.cifar10_source_label(tmp_path / "arg.npz") == str(tmp_path / "arg.npz")


def test_failed_download_says_how_to_point_at_a_copy(monkeypatch):
    import keras

    def offline():
        raise OSError("network unreachable")

    monkeypatch.delenv("INPAINT_TF_DATA", raising=False)
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(RuntimeError, match="INPAINT_TF_DATA"):
        D.load_cifar10()


def test_bad_cifar_sources(tmp_path, cifar_arrays):
    with pytest.raises(FileNotFoundError, match="not found"):
        D.load_cifar10(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="Unknown CIFAR-10 layout"):
        D.load_cifar10(tmp_path / "empty")
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(ValueError, match="Unknown CIFAR-10 file"):
        D.load_cifar10(text)
    partial = tmp_path / "partial.npz"
    np.savez(partial, x_train=cifar_arrays["x_train"])
    with pytest.raises(ValueError, match="lacks the arrays"):
        D.load_cifar10(partial)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, **{**cifar_arrays, "x_train": cifar_arrays["x_train"][:, :16]})
    with pytest.raises(ValueError, match=r"\(N, 32, 32, 3\)"):
        D.load_cifar10(wrong, validation_size=N_VAL)
    with pytest.raises(ValueError, match="validation_size"):
        D.load_cifar10(_write_npz(tmp_path, cifar_arrays), validation_size=N_TRAIN)


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(b""), "empty, corrupt"),
    (lambda p: cv2.imwrite(str(p), np.zeros((16, 16, 3), np.uint8)), "is 16x16"),
    (lambda p: cv2.imwrite(str(p), np.zeros((32, 32), np.uint8)), "1 channel"),
])
def test_bad_files_in_a_class_tree_are_named(tmp_path, cifar_arrays, damage, message):
    root = _write_tree(tmp_path, cifar_arrays)
    victim = sorted((root / "train" / "cat").glob("*.png"))[0]
    damage(victim)
    with pytest.raises(ValueError, match=message) as error:
        D.load_cifar10(root, validation_size=N_VAL, cache_dir=tmp_path / "cache")
    assert victim.name in str(error.value)


def test_empty_class_folder_is_reported(tmp_path, cifar_arrays):
    root = _write_tree(tmp_path, cifar_arrays)
    for file in (root / "test" / "ship").glob("*"):
        file.unlink()
    with pytest.raises(ValueError, match="holds no image files"):
        D.load_cifar10(root, validation_size=N_VAL, cache_dir=tmp_path / "cache")


# --------------------------------------------------------------------------- image folders


@pytest.fixture
def photo_folder(tmp_path, rng):
    root = tmp_path / "photos"
    for name, count in (("cats", 6), ("dogs", 4)):
        (root / name).mkdir(parents=True)
        for index in range(count):
            shape = (40 + 10 * index, 60, 3) if index % 2 else (50, 30 + 5 * index)
            cv2.imwrite(str(root / name / f"{index}.png"), rng.integers(0, 256, shape, np.uint8))
    return root


def test_image_folder_resizes_labels_and_splits(photo_folder):
    split = D.load_image_folder(photo_folder, size=(24, 16), fractions=(0.6, 0.2, 0.2))
    sizes = [len(part.images) for part in split]
    assert sizes == [6, 2, 2]
    assert split.train.images.shape[1:] == (24, 16, 3)
    labels = np.concatenate([part.labels for part in split])
    assert sorted(labels.tolist()) == [0] * 6 + [1] * 4
    again = D.load_image_folder(photo_folder, size=(24, 16), fractions=(0.6, 0.2, 0.2))
    np.testing.assert_array_equal(again.test.images, split.test.images)
    other = D.load_image_folder(photo_folder, size=(24, 16), fractions=(0.6, 0.2, 0.2), seed=5)
    assert not np.array_equal(other.train.images, split.train.images)


def test_center_crop_keeps_the_middle(tmp_path):
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, 10:30] = 255  # the centred 20 x 20 square is white, the sides black
    (tmp_path / "one").mkdir()
    cv2.imwrite(str(tmp_path / "one" / "a.png"), image)
    split = D.load_image_folder(tmp_path / "one", size=10, mode="center_crop",
                                fractions=(1, 0, 0))
    assert split.train.images.min() == 255
    resized = D.load_image_folder(tmp_path / "one", size=10, fractions=(1, 0, 0))
    assert resized.train.images.min() == 0  # plain resize keeps the black sides


def test_image_folder_bad_input(tmp_path, photo_folder):
    with pytest.raises(FileNotFoundError):
        D.load_image_folder(tmp_path / "missing", size=8)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No image files"):
        D.load_image_folder(tmp_path / "empty", size=8)
    with pytest.raises(ValueError, match="mode"):
        D.load_image_folder(photo_folder, size=8, mode="stretch")
    with pytest.raises(ValueError, match="fractions"):
        D.load_image_folder(photo_folder, size=8, fractions=(0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="size"):
        D.load_image_folder(photo_folder, size=0)


def test_unreadable_image_fails_or_is_skipped(photo_folder):
    broken = photo_folder / "cats" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(ValueError, match="broken.jpg"):
        D.load_image_folder(photo_folder, size=8)
    with pytest.warns(UserWarning, match="broken.jpg"):
        split = D.load_image_folder(photo_folder, size=8, on_error="skip")
    assert sum(len(part.images) for part in split) == 10


# --------------------------------------------------------------------------- pipelines


def _first_batches(dataset, count):
    return [(dict((k, v.numpy()) for k, v in x.items()), y.numpy())
            for x, y in dataset.take(count)]


def test_make_dataset_batches_fill_and_masks(tiny_images):
    dataset = D.make_dataset(tiny_images, "random_box", batch_size=4, seed=3, fill_value=1.0)
    inputs, target = _first_batches(dataset, 1)[0]
    assert inputs["image"].shape == (4, 32, 32, 3) and inputs["mask"].shape == (4, 32, 32, 1)
    assert target.dtype == np.float32 and 0 <= target.min() and target.max() <= 1
    hole = np.broadcast_to(inputs["mask"] > 0, target.shape)
    assert np.all(inputs["image"][hole] == 1.0)
    np.testing.assert_array_equal(inputs["image"][~hole], target[~hole])
    # Targets are images of the set, and masks are the documented function of (seed, epoch, step).
    expected = generate_masks("random_box", 4, np.random.default_rng([3, 0, 1]))
    np.testing.assert_array_equal(inputs["mask"], expected)


def test_make_dataset_is_reproducible_and_changes_every_epoch(tiny_images):
    steps = D.full_pass_steps(len(tiny_images), 4)
    first = _first_batches(D.make_dataset(tiny_images, "irregular", batch_size=4, seed=1),
                           2 * steps)
    second = _first_batches(D.make_dataset(tiny_images, "irregular", batch_size=4, seed=1),
                            2 * steps)
    for (a, ya), (b, yb) in zip(first, second):
        np.testing.assert_array_equal(a["mask"], b["mask"])
        np.testing.assert_array_equal(ya, yb)
    epoch0 = np.concatenate([x["mask"] for x, _ in first[:steps]])
    epoch1 = np.concatenate([x["mask"] for x, _ in first[steps:]])
    assert not np.array_equal(epoch0, epoch1)
    # Every image appears once per epoch.
    seen = np.concatenate([y for _, y in first[:steps]])
    assert sorted(map(bytes, seen)) == sorted(map(bytes, tiny_images.astype(np.float32) / 255))
    # A dataset started at epoch 1 replays the second epoch exactly (resume).
    resumed = _first_batches(D.make_dataset(tiny_images, "irregular", batch_size=4, seed=1,
                                            start_epoch=1), steps)
    for (a, ya), (b, yb) in zip(first[steps:], resumed):
        np.testing.assert_array_equal(a["mask"], b["mask"])
        np.testing.assert_array_equal(ya, yb)


def test_make_dataset_options(tiny_images):
    dataset = D.make_dataset(tiny_images, "gan_rectangle", batch_size=8, real_masks=True,
                             shuffle=False, epochs=1)
    batches = _first_batches(dataset, 10)
    assert len(batches) == 2  # one epoch of 16 images
    inputs, target = batches[0]
    assert "real_mask" in inputs and not np.array_equal(inputs["real_mask"], inputs["mask"])
    np.testing.assert_allclose(target, tiny_images[:8] / 255.0, atol=1e-7)
    weighted = D.make_dataset(tiny_images, "center_box", batch_size=8, mask_as_sample_weight=True)
    x, y, weights = next(iter(weighted))
    np.testing.assert_array_equal(weights.numpy(), x["mask"].numpy())


def test_make_dataset_bad_arguments(tiny_images):
    with pytest.raises(ValueError, match="Unknown mask kind"):
        D.make_dataset(tiny_images, "blob")
    with pytest.raises(ValueError, match="larger than"):
        D.make_dataset(tiny_images, "irregular", batch_size=64)
    with pytest.raises(ValueError, match="batch_size"):
        D.make_dataset(tiny_images, "irregular", batch_size=0)
    with pytest.raises(ValueError, match="3 channels"):
        D.make_dataset(tiny_images[..., :1], "irregular")


def test_make_eval_dataset_uses_the_given_masks(tiny_images):
    masks = generate_masks("center_box", len(tiny_images), seed=0)
    batches = _first_batches(D.make_eval_dataset(tiny_images, masks, batch_size=5), 10)
    assert [len(y) for _, y in batches] == [5, 5, 5, 1]
    np.testing.assert_array_equal(np.concatenate([x["mask"] for x, _ in batches]), masks)
    with pytest.raises(ValueError, match="must match"):
        D.make_eval_dataset(tiny_images, masks[:3])


def test_synthetic_split_shapes_and_reproducibility():
    split = D.synthetic_split(n_train=5, n_validation=2, n_test=3, size=16, seed=4)
    assert [len(part.images) for part in split] == [5, 2, 3]
    assert split.train.images.shape == (5, 16, 16, 3) and split.train.images.dtype == np.uint8
    np.testing.assert_array_equal(split.test.images, D.synthetic_split(5, 2, 3, 16, 4).test.images)
    assert split.train.images.std() > 10  # not flat


def test_epochs_of_any_length_are_a_function_of_epoch_and_step(tiny_images):
    # 16 images, batch 4, 6 steps: an epoch runs 1.5 passes; the next epoch starts afresh.
    long = _first_batches(D.make_dataset(tiny_images, "center_box", batch_size=4, seed=2,
                                         steps_per_epoch=6), 12)
    resumed = _first_batches(D.make_dataset(tiny_images, "center_box", batch_size=4, seed=2,
                                            steps_per_epoch=6, start_epoch=1), 6)
    for (a, ya), (b, yb) in zip(long[6:], resumed):
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(a["mask"], b["mask"])
    first_pass = np.concatenate([y for _, y in long[:4]])
    expected = sorted(map(bytes, tiny_images.astype(np.float32) / 255))
    assert sorted(map(bytes, first_pass)) == expected
