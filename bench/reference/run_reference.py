#!/usr/bin/env python3
"""Times training of the authors' PyTorch implementation on the CPU.

Point --reference at a checkout of the authors' code (this project does not contain it). The
model and training flags are theirs (main.py); --data is any file, which is turned into their
data format (a folder of train/valid/test.txt holding the bytes as space-separated numbers).
Prints one JSON object: tokens/s, ms per batch, peak RSS, memory cache sizes.
Needs PyTorch (on Debian: apt-get install python3-torch libopenblas0-pthread; without the
latter its products run on netlib's unoptimised BLAS, and the JSON's "blas" names what was loaded).
"""
import argparse
import json
import os
import re
import resource
import sys
import tempfile
import time
import types


def blas_libraries():
    """The BLAS libraries this process has loaded (Linux): Debian's python3-torch runs on
    whatever libblas.so.3 points to, which is netlib's unoptimised reference BLAS unless an
    OpenBLAS package is installed."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if re.search(r"\.so(\.\d+)*$", line.rstrip())}
    except OSError:
        return []
    return sorted(p for p in paths if "blas" in os.path.basename(p).lower())


def stub_plotting_modules():
    # The reference's logger imports tensorboard and matplotlib only for plots, which a timing
    # run never makes; stand-ins let it import where those packages are not installed.
    for name, attrs in [("torch.utils.tensorboard", {"SummaryWriter": object}),
                        ("matplotlib", {"use": lambda *a, **k: None}),
                        ("matplotlib.pyplot", {})]:
        try:
            __import__(name)
        except ImportError:
            module = types.ModuleType(name)
            module.__dict__.update(attrs)
            sys.modules[name] = module
    sys.modules["matplotlib"].pyplot = sys.modules["matplotlib.pyplot"]


def write_char_folder(path, max_bytes):
    with open(path, "rb") as f:
        data = f.read(max_bytes)
    folder = tempfile.mkdtemp(prefix="reference-data-")
    n_train, n_valid = int(len(data) * 0.9), int(len(data) * 0.05)
    parts = {"train.txt": data[:n_train], "valid.txt": data[n_train:n_train + n_valid], "test.txt": data[n_train + n_valid:]}
    for name, part in parts.items():
        with open(os.path.join(folder, name), "w") as out:
            for start in range(0, len(part), 1000):
                out.write(" ".join(str(b) for b in part[start:start + 1000]) + "\n")
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", required=True, help="checkout of the authors' code")
    parser.add_argument("--data", required=True, help="any file (read as bytes)")
    parser.add_argument("--batches", type=int, default=20, help="timed updates")
    parser.add_argument("--warmup", type=int, default=3, help="untimed updates first")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-bytes", type=int, default=2_000_000, help="bytes of --data used")
    ours, theirs = parser.parse_known_args()

    sys.path.insert(0, os.path.abspath(ours.reference))
    stub_plotting_modules()
    import torch
    torch.set_num_threads(ours.threads)
    import data as ref_data
    import main as ref_main
    import trainer as ref_trainer
    from models import compressive, expire_span, transformer_seq

    folder = write_char_folder(ours.data, ours.max_bytes)
    args = ref_main.get_parser().parse_args(theirs + ["--data", folder])
    ref_main.update_args(args)
    args.device = torch.device("cpu")
    args.rank, args.world_size, args.data_omit_label_idx = 0, 1, None
    corpus = ref_data.Corpus(folder)
    args.vocab_sz = len(corpus.dictionary)
    if args.expire_span:
        model = expire_span.ExpireSpan(args)
    elif args.compress:
        model = compressive.CompressiveTransformer(args)
    else:
        model = transformer_seq.TransformerSeq(args)

    class Single(torch.nn.Module):  # what the reference's trainer expects of its DDP wrapper
        def __init__(self, inner):
            super().__init__()
            self.module = inner

        def forward(self, *a):
            return self.module(*a)

    wrapped = Single(model)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=args.lr) if args.optim == "adam" else torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)
    train_data = ref_data.batchify(corpus.train, args.batch_sz)
    cache = model.init_hid_cache(args.batch_sz)
    pos = 0
    args.nbatches = ours.warmup
    if ours.warmup > 0:
        _, pos, cache = ref_trainer.train(args, wrapped, optimizer, None, train_data, train_pos=pos, h_cache=cache, corpus=corpus)
    args.nbatches = ours.batches
    start = time.perf_counter()
    stat, pos, cache = ref_trainer.train(args, wrapped, optimizer, None, train_data, train_pos=pos, h_cache=cache, corpus=corpus)
    seconds = time.perf_counter() - start
    tokens = ours.batches * args.batch_sz * args.mem_sz
    print(json.dumps({
        "implementation": "reference (PyTorch %s)" % torch.__version__,
        "tokensPerSecond": tokens / seconds,
        "msPerBatch": 1000 * seconds / ours.batches,
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cacheSizes": [int(cache[l].size(1)) for l in range(args.nlayers)],
        "loss": stat.get("loss"),
        "blas": blas_libraries(),
    }))


if __name__ == "__main__":
    main()
