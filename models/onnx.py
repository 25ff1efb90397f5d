"""ONNX Runtime inference for the joint model (fp32, and int8 by ONNX Runtime's dynamic quantisation).

An optional extra (``pip install marsad[onnx]``). The export is cached beside the model
(``onnx/``), keyed by the weights file's size and modification time.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path

import numpy as np
import torch

logger = logging.getLogger(__name__)


class _Wrapper(torch.nn.Module):
    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return out.logits, out.event_logits


def export_onnx(model, path: Path) -> Path:
    """Export the joint model with dynamic batch and sequence axes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    wrapper = _Wrapper(model).eval()
    with torch.inference_mode():
        torch.onnx.export(
            wrapper, (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
            output_names=["logits", "event_logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                          "logits": {0: "batch", 1: "seq"}, "event_logits": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    return path


def quantize_onnx(src: Path, dst: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    return dst


class OnnxRunner:
    """Runs an exported model with ONNX Runtime on CPU."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.path = path

    @classmethod
    def for_model(cls, model, quantize: bool = False, cache_dir: Path | None = None) -> "OnnxRunner":
        try:
            import onnxruntime  # noqa: F401
        except ImportError as err:
            raise ImportError("ONNX Runtime is not installed: pip install 'marsad[onnx]'") from err
        key = _weights_key(model)
        base = Path(cache_dir) / "onnx" if cache_dir is not None else Path(tempfile.gettempdir()) / "marsad-onnx"
        fp32 = base / f"model-{key}.onnx"
        try:
            if not fp32.is_file():
                export_onnx(model, fp32)
        except OSError:  # a read-only model directory
            base = Path(tempfile.gettempdir()) / "marsad-onnx"
            fp32 = base / f"model-{key}.onnx"
            if not fp32.is_file():
                export_onnx(model, fp32)
        path = fp32
        if quantize:
            path = base / f"model-{key}-int8.onnx"
            if not path.is_file():
                quantize_onnx(fp32, path)
        return cls(path)

    def run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, events = self.session.run(None, {"input_ids": ids.astype(np.int64), "attention_mask": mask.astype(np.int64)})
        return logits, events


def _weights_key(model) -> str:
    h = hashlib.sha1()
    for name, p in sorted(model.state_dict().items()):
        h.update(name.encode())
        t = p.detach().float().flatten()
        h.update(t[: min(64, t.numel())].numpy().tobytes())
        h.update(str(tuple(p.shape)).encode())
    return h.hexdigest()[:12]
