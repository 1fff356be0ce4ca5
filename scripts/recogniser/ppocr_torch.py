"""PP-OCRv6's recogniser (from the rapidocr wheel) as torch modules, for fine-tuning.

The ONNX graph is converted with onnx2torch after its SAME_UPPER paddings (stride 1 only in
this model) are written out as explicit pads, which onnx2torch needs; the conversion gives
the ONNX model's output within 4e-6. It is cut in two at the backbone's last pooling
(`SPLIT`): the backbone stays frozen, and the neck (two SVTR blocks over the time steps) plus
a classification layer cut down to the classes the engine reads (the CTC blank, Latin letters,
digits, punctuation and the space: 163 of 18,710) are trained.

Needs the `train` extra: pip install -e '.[train]'."""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import onnx
import torch
import torch.fx as fx
from onnx import helper, numpy_helper
from onnx2torch import convert

from scp_scanner.ocr.ppocr_decode import alphabet_of
from scp_scanner.ocr.rapidocr_engine import (REC_HEIGHT, REC_MIN_WIDTH, RECOGNISER_FILE,
                                             _channels_first, latin, stock_model_dir)

SPLIT = "average_pool_0"      # the backbone's output, (batch, 384, 1, steps)
LAST = "transpose_8"          # the neck's output, (batch, steps, 120)
HEAD_WEIGHT = "linear_8.w_0"  # (120, 18710)


def stock_path() -> Path:
    return stock_model_dir() / RECOGNISER_FILE


def explicit_pads(model: onnx.ModelProto) -> onnx.ModelProto:
    """SAME_UPPER auto_pad written as pads (stride 1: k-1 in all, the odd one at the end)."""
    for node in model.graph.node:
        if node.op_type not in ("Conv", "MaxPool", "AveragePool"):
            continue
        attrs = {a.name: a for a in node.attribute}
        auto = attrs.get("auto_pad")
        if auto is None or auto.s in (b"NOTSET", b"VALID"):
            continue
        kernel = list(attrs["kernel_shape"].ints)
        strides = list(attrs["strides"].ints) if "strides" in attrs else [1] * len(kernel)
        if auto.s != b"SAME_UPPER" or any(s != 1 for s in strides):
            raise ValueError(f"{node.name}: {auto.s!r} with strides {strides} is not handled")
        begin = [(k - 1) // 2 for k in kernel]
        end = [(k - 1) - b for k, b in zip(kernel, begin)]
        node.attribute.remove(auto)
        node.attribute.append(helper.make_attribute("pads", begin + end))
    return model


def cut(gm: fx.GraphModule, start: str | None, end: str) -> fx.GraphModule:
    """The part of a converted graph from node `start`'s output (None: the input) to `end`."""
    graph, env = fx.Graph(), {}
    nodes = list(gm.graph.nodes)
    first = [n.name for n in nodes].index(start) + 1 if start else 0
    if start:
        env[start] = graph.placeholder("x")
    for node in nodes[:first]:
        if node.op == "get_attr":
            env[node.name] = graph.node_copy(node, lambda a: env[a.name])
    for node in nodes[first:]:
        if node.op == "output":
            break
        missing = [a.name for a in node.all_input_nodes if a.name not in env]
        if missing:
            raise RuntimeError(f"{node.name} needs {missing} from before the cut")
        env[node.name] = graph.node_copy(node, lambda a: env[a.name])
        if node.name == end:
            break
    graph.output(env[end])
    return fx.GraphModule(gm, graph)


class Head(torch.nn.Module):
    """Neck plus a classification layer over the kept classes: logits (batch, steps, K)."""

    def __init__(self, neck: fx.GraphModule, weight: np.ndarray, bias: np.ndarray, keep: list[int]):
        super().__init__()
        self.neck = neck
        self.fc = torch.nn.Linear(weight.shape[0], len(keep))
        with torch.no_grad():
            self.fc.weight.copy_(torch.from_numpy(weight[:, keep].T.copy()))
            self.fc.bias.copy_(torch.from_numpy(bias[keep].copy()))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(self.neck(features))


class Recogniser(torch.nn.Module):
    """Backbone, neck and head: class probabilities (batch, steps, K), as the engine reads."""

    def __init__(self, backbone: fx.GraphModule, head: Head):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.head(self.backbone(x)), dim=-1)


def build(path: Path | None = None) -> tuple[fx.GraphModule, Head, list[str]]:
    """The frozen backbone, the trainable head (stock weights) and its classes (blank first,
    space last)."""
    model = onnx.load(str(path or stock_path()))
    characters = [p.value for p in model.metadata_props if p.key == "character"][0].splitlines()
    alphabet = alphabet_of(characters)
    keep = [i for i, ch in enumerate(alphabet) if i == 0 or ch == " " or latin(ch)]
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    bias_name = [n for n in model.graph.node
                 if n.op_type == "Add" and "matmul.12" in n.input[0]][0].input[1]
    weight, bias = inits[HEAD_WEIGHT], inits[bias_name]
    gm = convert(explicit_pads(model))
    backbone = cut(gm, None, SPLIT)
    neck = cut(gm, SPLIT, LAST)
    # onnx2torch keeps MatMul and Add weights as buffers: the float ones become parameters.
    for module in list(neck.modules()):
        for name, buffer in list(module.named_buffers(recurse=False)):
            if buffer.is_floating_point() and buffer.numel() > 1 and "running" not in name:
                delattr(module, name)
                module.register_parameter(name, torch.nn.Parameter(buffer.detach().clone()))
    return backbone, Head(neck, weight, bias, keep), [alphabet[i] for i in keep]


def prepare(crop: np.ndarray) -> np.ndarray:
    """One line crop as the engine feeds it alone (one crop per run on a CPU):
    RapidOcrEngine._recognise_batch's resizing and scaling."""
    ratio = crop.shape[1] / max(1, crop.shape[0])
    width = max(REC_MIN_WIDTH, int(math.ceil(REC_HEIGHT * ratio)))
    batch = np.zeros((3, REC_HEIGHT, width), np.float32)
    w = min(width, max(1, int(math.ceil(REC_HEIGHT * ratio))))
    resized = cv2.resize(crop, (w, REC_HEIGHT)).astype(np.float32) / 127.5 - 1.0
    batch[:, :, :w] = _channels_first(resized)
    return batch


def greedy(logits: np.ndarray, alphabet: list[str]) -> str:
    out, previous = [], -1
    for i in logits.argmax(-1):
        if i != previous and i != 0:
            out.append(alphabet[i])
        previous = i
    return "".join(out)
