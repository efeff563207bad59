"""makemore, part 2: a character-level MLP that learns to spell words, then makes up new ones.

The model of Bengio et al. (2003), as in Andrej Karpathy's "makemore" part 2: to predict the
next character, look up the previous ``block_size`` = 3 characters in an ``nn.Embedding(27, 10)``
table (26 letters and ".", which marks the start and the end of a word), join the three
vectors (``nn.Flatten``), then ``nn.Linear -> tanh -> nn.Linear`` gives 27 logits, trained
with ``F.cross_entropy`` on random minibatches by ``nn.optim.SGD``, its learning rate cut
tenfold halfway (``lr_scheduler.MultiStepLR``). New words are sampled one character at a time
with ``autograd.multinomial`` from the softmax of the logits, until the model writes ".".

The data. makemore trains on 32,000 first names; no installed package ships a names list and
this example downloads nothing, so by default it trains on text that ships with Python
itself: the 2,911 distinct all-lowercase words (2 letters or more) of the help texts in the
standard library's ``pydoc_data.topics`` (what ``help("for")`` prints), shuffled with the
seed and split 90% / 10% into training and validation words. These are English words and
Python names ("statement", "coroutine", "getattr"), not first names, so the samples look like
made-up English or Python words. The help texts differ slightly between Python versions, and
so do the figures below (measured on Python 3.11). Give ``--words FILE`` (one word per line,
e.g. makemore's own ``names.txt``) to train on something else; characters other than a-z are
dropped.

Default run (11,897 parameters, 20,000 steps of 32 examples): train loss 1.69, val loss 1.98
(nats per character; uniform guessing is ln 27 = 3.30, the untrained model 3.35), ~30 s on a
2-core machine (22 s of CPU time; measured with one BLAS thread while other jobs shared the
machine). The gap between the two losses is the model learning its 2,620 training words by
heart. Samples: "assorthoss, folline, smalling, implexal, callumps, compally, prefues".
``--tiny`` (300 steps, a 64-unit layer) takes about a second: val loss ~2.7.

Needs the ``examples`` extra (tqdm).

Run: python examples/makemore_mlp.py [--steps N] [--hidden 200] [--words FILE] [--seed S] [--quiet] [--tiny]
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

import numpy as np

import autograd
import nn
import nn.functional as F
from autograd import no_grad

END = "."  # start and end of every word: index 0
LETTERS = "abcdefghijklmnopqrstuvwxyz"
ALPHABET = END + LETTERS  # 27 symbols
STOI = {ch: i for i, ch in enumerate(ALPHABET)}
TINY = {"steps": 300, "hidden": 64, "samples": 5}  # --tiny: about a second


def python_words() -> list[str]:
    """The distinct all-lowercase words (length >= 2) of Python's own help texts, sorted."""
    from pydoc_data.topics import topics

    text = "\n".join(topics.values())
    return sorted({word for word in re.findall(r"[A-Za-z]+", text) if word.islower() and len(word) >= 2})


def read_words(path: str) -> list[str]:
    """One word per line, lower-cased, keeping only the letters a-z; empty lines are skipped."""
    with open(path, encoding="utf-8") as f:
        words = [re.sub("[^a-z]", "", line.lower()) for line in f]
    return [word for word in words if word]


def build_dataset(words: list[str], block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (context, next character) pair of the words: X (n, block_size) and Y (n,) indices.

    "emma" with block_size 3 gives ... -> e, ..e -> m, .em -> m, emm -> a, mma -> .
    """
    xs, ys = [], []
    for word in words:
        context = [0] * block_size
        for ch in word + END:
            xs.append(context)
            ys.append(STOI[ch])
            context = context[1:] + [STOI[ch]]
    return np.array(xs, dtype=np.int64).reshape(-1, block_size), np.array(ys, dtype=np.int64)


def make_model(block_size: int, n_embd: int, n_hidden: int) -> nn.Sequential:
    """Embedding -> join the context's vectors -> Linear -> tanh -> Linear (27 logits)."""
    return nn.Sequential(
        nn.Embedding(len(ALPHABET), n_embd),  # (B, block_size) -> (B, block_size, n_embd)
        nn.Flatten(),  # -> (B, block_size * n_embd)
        nn.Linear(block_size * n_embd, n_hidden),
        nn.Tanh(),
        nn.Linear(n_hidden, len(ALPHABET)),
    )


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy (nats per character) on (x, y), without recording a graph."""
    with no_grad():
        return F.cross_entropy(model(x), y).item()


def sample(model: nn.Module, block_size: int, count: int, max_length: int = 30) -> list[str]:
    """``count`` new words, each drawn character by character with ``autograd.multinomial``."""
    words = []
    with no_grad():
        for _ in range(count):
            context = [0] * block_size
            out = []
            while len(out) < max_length:
                probs = model(np.array([context])).softmax(axis=-1)  # (1, 27)
                ix = int(autograd.multinomial(probs, num_samples=1, replacement=True).item())
                if ix == 0:
                    break
                out.append(ALPHABET[ix])
                context = context[1:] + [ix]
            words.append("".join(out))
    return words


def show_progress(quiet: bool) -> bool:
    """A progress bar in Jupyter or on a terminal; none with --quiet or when the output goes to a pipe or a file."""
    if quiet:
        return False
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    in_jupyter = shell is not None and "IPKernelApp" in shell.config
    return in_jupyter or all(stream is not None and stream.isatty() for stream in (sys.stdout, sys.stderr))


def train(args: argparse.Namespace) -> dict[str, Any]:
    from tqdm.auto import tqdm  # a widget in Jupyter, a text line on a terminal

    autograd.manual_seed(args.seed)  # the model's init, the batches and the samples all draw from it
    words = read_words(args.words) if args.words else python_words()
    if len(words) < 10:
        raise ValueError(f"makemore_mlp: {len(words)} words are too few to split into training and validation")
    order = np.random.default_rng(args.seed).permutation(len(words))
    split = int(0.9 * len(words))
    train_words = [words[i] for i in order[:split]]
    val_words = [words[i] for i in order[split:]]
    x_train, y_train = build_dataset(train_words, args.block_size)
    x_val, y_val = build_dataset(val_words, args.block_size)

    model = make_model(args.block_size, args.embd, args.hidden)
    optimizer = nn.optim.SGD(model.parameters(), lr=args.lr)
    scheduler = nn.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[args.steps // 2], gamma=0.1)
    rng = autograd.random.default_generator()
    initial_val = evaluate(model, x_val, y_val)

    losses = []
    every = max(1, args.steps // 10)
    bar = tqdm(range(args.steps), desc="makemore", unit="step", disable=not show_progress(args.quiet))
    for step in bar:
        batch = rng.integers(0, len(x_train), args.batch_size)
        loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if step % every == 0 or step == args.steps - 1:
            recent = float(np.mean(losses[-every:]))
            bar.set_postfix(loss=f"{recent:.4f}")
            if not args.quiet and bar.disable:  # no bar (output to a pipe or a file): a line now and then instead
                print(f"step {step:6d}  minibatch loss {recent:.4f}")
    bar.close()

    return {
        "words": len(words),
        "parameters": sum(p.size for p in model.parameters()),
        "initial_val_loss": initial_val,
        "train_loss": evaluate(model, x_train, y_train),
        "val_loss": evaluate(model, x_val, y_val),
        "losses": losses,
        "samples": sample(model, args.block_size, args.samples),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, print the losses and some samples.

    ``argv`` is the command line's arguments (``None``: the defaults; the script passes its own),
    e.g. ``main(["--tiny", "--quiet"])`` from a notebook. Returns a dict: ``words`` and
    ``parameters`` (counts), ``initial_val_loss``, ``train_loss`` and ``val_loss`` (nats per
    character), ``losses`` (each step's minibatch loss) and ``samples`` (the words it made up).
    It draws no figures.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="minibatch steps")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per minibatch")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD's learning rate (cut tenfold halfway)")
    parser.add_argument("--block-size", type=int, default=3, help="characters of context")
    parser.add_argument("--embd", type=int, default=10, help="size of each character's embedding")
    parser.add_argument("--hidden", type=int, default=200, help="size of the tanh layer")
    parser.add_argument("--samples", type=int, default=20, help="words to sample at the end")
    parser.add_argument("--words", default=None, help="a file of words, one a line (default: Python's help texts)")
    parser.add_argument("--seed", type=int, default=2147483647, help="seed for the split, init, batches and samples")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-step lines")
    parser.add_argument("--tiny", action="store_true", help="a quick run: 300 steps, a 64-unit layer, 5 samples")
    argv = [] if argv is None else argv
    args = parser.parse_args(argv)
    if args.tiny:  # smaller defaults; flags given explicitly still win
        parser.set_defaults(**TINY)
        args = parser.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1 or args.block_size < 1:
        parser.error("--steps, --batch-size and --block-size must be at least 1")

    results = train(args)
    print(f"words {results['words']}  parameters {results['parameters']}")
    print(f"initial val loss {results['initial_val_loss']:.4f}")
    print(f"train loss {results['train_loss']:.4f}")
    print(f"val loss {results['val_loss']:.4f}")
    print("samples:", ", ".join(results["samples"]))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
