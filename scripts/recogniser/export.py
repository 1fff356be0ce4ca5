"""Write the fine-tuned recogniser as the ONNX file the engine loads.

Backbone, neck, head and softmax exported together (opset 17, batch and width dynamic), with
the kept characters as the model's `character` metadata (the engine's alphabet: blank, these,
space). Checks the file against the torch model on the given crops.

    .venv/bin/python scripts/recogniser/export.py head.pt scp_scanner/ocr/models/ppocr_rec_latin.onnx \
        --mix 0.5 --check v.pkl
"""
from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ppocr_torch as P  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("head", help="finetune.py's state_dict, or - for the stock weights")
    parser.add_argument("out")
    parser.add_argument("--check", help="a make_lines.py pickle: compare on its first 40 crops")
    parser.add_argument("--mix", type=float, default=1.0,
                        help="weight-space ensemble (WiSE-FT): (1 - MIX) x stock + MIX x fine-tuned "
                             "weights of the neck and head (default 1: the fine-tuned weights)")
    args = parser.parse_args()
    backbone, head, alphabet = P.build()
    if args.head != "-":
        stock = {k: v.clone() for k, v in head.state_dict().items()}
        tuned = torch.load(args.head)
        head.load_state_dict({k: (1 - args.mix) * stock[k] + args.mix * tuned[k]
                              if stock[k].is_floating_point() else tuned[k] for k in stock})
    model = P.Recogniser(backbone, head).eval()
    x = torch.from_numpy(P.prepare(np.full((16, 100), 128, np.uint8))[None])
    torch.onnx.export(model, (x,), args.out, input_names=["x"], output_names=["softmax"],
                      dynamic_axes={"x": {0: "batch", 3: "width"}, "softmax": {0: "batch", 1: "steps"}},
                      opset_version=17, dynamo=False)
    exported = onnx.load(args.out)
    entry = exported.metadata_props.add()
    entry.key, entry.value = "character", "\n".join(alphabet[1:-1])
    onnx.save(exported, args.out)
    if args.check:
        session = ort.InferenceSession(args.out)
        with open(args.check, "rb") as fh:
            crops = [s[0] for s in pickle.load(fh)[:40]]
        worst = 0.0
        for crop in crops:
            xi = P.prepare(crop)[None]
            with torch.no_grad():
                expected = model(torch.from_numpy(xi)).numpy()
            worst = max(worst, float(np.abs(session.run(None, {"x": xi})[0] - expected).max()))
        print("max |onnx - torch| over", len(crops), "crops:", worst)
    print("wrote", args.out, Path(args.out).stat().st_size, "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
