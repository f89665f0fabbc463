"""Facts about the machine, recorded beside every timing and result."""

from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_names() -> list[str]:
    import tensorflow as tf

    names = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        names.append(details.get("device_name", device.name))
    return names


def has_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def describe_device() -> str:
    """"NVIDIA H100 80GB HBM3 (1 GPU)" or "AMD EPYC (2 cores)"."""
    gpus = gpu_names()
    if gpus:
        return f"{gpus[0]} ({len(gpus)} GPU{'s' if len(gpus) > 1 else ''})"
    return f"{cpu_model()} ({os.cpu_count()} cores)"
