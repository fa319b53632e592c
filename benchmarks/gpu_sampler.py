"""GPU utilisation sampled while a benchmark block runs (shared by classifier_bench and pipeline_bench)."""

from __future__ import annotations

import threading


class GpuSampler:
    """Mean GPU utilisation while the block runs (NVML's busy-time percentage; no NVML -> None)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.samples: list[float] = []
        self._stop = threading.Event()

    def __enter__(self):
        if self.enabled:
            self._t = threading.Thread(target=self._run, daemon=True)
            self._t.start()
        return self

    def _run(self) -> None:
        try:  # NVML directly: no CUDA context in the sampling process (the pipeline bench samples its child)
            import pynvml

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        except Exception:  # noqa: BLE001 - no NVML: report None
            return
        while not self._stop.wait(0.05):
            self.samples.append(float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu))

    def __exit__(self, *exc) -> None:
        self._stop.set()

    @property
    def mean(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None
