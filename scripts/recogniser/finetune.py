"""Fine-tune the recogniser's neck and head on make_lines.py's crops.

The backbone is frozen, so its features are computed once per crop (cached beside each
pickle as PICKLE.feats) and the neck and head train on them: batches of crops with the same
number of time steps (the neck attends over all steps, so padding would change it), CTC
loss, AdamW with cosine decay, BatchNorm statistics kept. Prints the validation crops'
exact-line rate, the rate ignoring spaces, and the character error rate after each epoch.

    .venv/bin/python scripts/recogniser/finetune.py head.pt --train a.pkl b.pkl --val v.pkl
"""
from __future__ import annotations

import argparse
import difflib
import os
import pickle
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ppocr_torch as P  # noqa: E402


def features(backbone, paths: list[str]) -> list:
    out = []
    for path in paths:
        cache = path + ".feats"
        if os.path.exists(cache):
            with open(cache, "rb") as fh:
                out += pickle.load(fh)
            continue
        with open(path, "rb") as fh:
            samples = pickle.load(fh)
        started, feats = time.time(), []
        with torch.no_grad():
            for crop, text, style, name in samples:
                f = backbone(torch.from_numpy(P.prepare(crop)[None]))[0].numpy().astype(np.float16)
                feats.append((f, text, style, name))
        print("features", path, len(feats), f"{time.time() - started:.0f} s", flush=True)
        with open(cache, "wb") as fh:
            pickle.dump(feats, fh)
        out += feats
    return out


def evaluate(head, alphabet, val) -> tuple[float, float, float]:
    head.eval()
    exact = nospace = errors = chars = 0
    with torch.no_grad():
        for f, text, _, _ in val:
            read = P.greedy(head(torch.from_numpy(f.astype(np.float32))[None])[0].numpy(), alphabet).strip()
            exact += read == text
            nospace += read.replace(" ", "") == text.replace(" ", "")
            matcher = difflib.SequenceMatcher(None, read, text)
            errors += max(len(read), len(text)) - sum(b.size for b in matcher.get_matching_blocks())
            chars += len(text)
    return exact / len(val), nospace / len(val), errors / chars


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="where the head's state_dict goes")
    parser.add_argument("--train", nargs="+", required=True)
    parser.add_argument("--val", nargs="+", required=True)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)

    backbone, head, alphabet = P.build()
    backbone.eval()
    index = {ch: i for i, ch in enumerate(alphabet) if i}
    train = [s for s in features(backbone, args.train) if all(ch in index for ch in s[1])]
    val = [s for s in features(backbone, args.val) if all(ch in index for ch in s[1])]
    print("train", len(train), "val", len(val), flush=True)

    def batches() -> list:
        buckets: dict[int, list] = {}
        for s in train:
            buckets.setdefault(s[0].shape[-1], []).append(s)
        out = []
        for items in buckets.values():
            random.shuffle(items)
            out += [items[i:i + args.batch] for i in range(0, len(items), args.batch)]
        random.shuffle(out)
        return out

    params = list(head.parameters())
    print("trainable", sum(p.numel() for p in params))
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    print("epoch 0 val exact/nospace/cer", evaluate(head, alphabet, val), flush=True)
    for epoch in range(1, args.epochs + 1):
        started, total, count = time.time(), 0.0, 0
        plan = batches()
        for k, batch in enumerate(plan):
            done = ((epoch - 1) * len(plan) + k) / (args.epochs * len(plan))
            for group in optimiser.param_groups:
                group["lr"] = args.lr * 0.5 * (1 + np.cos(np.pi * done))
            head.train()
            for module in head.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.eval()
            x = torch.from_numpy(np.stack([s[0] for s in batch]).astype(np.float32))
            logp = torch.log_softmax(head(x), -1).transpose(0, 1)          # (steps, batch, K)
            targets = torch.tensor([index[ch] for s in batch for ch in s[1]])
            lengths = torch.tensor([len(s[1]) for s in batch])
            steps = torch.full((len(batch),), logp.shape[0], dtype=torch.long)
            loss = ctc(logp, targets, steps, lengths)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
            count += len(batch)
        print("epoch", epoch, "loss", round(total / count, 4), "val exact/nospace/cer",
              evaluate(head, alphabet, val), f"{time.time() - started:.0f} s", flush=True)
    torch.save(head.state_dict(), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
