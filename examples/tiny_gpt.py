"""A tiny GPT: a two-block character-level transformer, trained on Python's own help texts.

The model is a (much) smaller GPT-2, written with the library's layers only:

    tokens (B, T) -> token nn.Embedding + position nn.Embedding -> nn.Dropout
    -> n_layer blocks, each  x = x + Dropout(MultiheadAttention(LayerNorm(x)), causal)
                             x = x + Dropout(Linear(GELU(Linear(LayerNorm(x)))))
    -> nn.LayerNorm -> nn.Linear to vocabulary logits (B, T, vocab)

Attention is ``nn.MultiheadAttention(batch_first=True)`` with a causal mask (position t sees
positions <= t only). Training: ``F.cross_entropy`` of the next character at every position,
``nn.optim.AdamW`` with a cosine learning-rate schedule (``lr_scheduler.CosineAnnealingLR``)
and gradient clipping (``nn.utils.clip_grad_norm_``). Text is then sampled character by
character with ``autograd.multinomial``.

The text ships with Python: every help page of ``pydoc_data.topics`` (what ``help("for")``
prints), sorted by topic and joined (about 465,000 characters and 103 distinct ones on
Python 3.11; other versions differ a little, and so do the figures). The first 90% trains,
the last 10% is held out for validation. Losses are estimated on the same fixed-seed random
windows before and after training.

Default run (2 blocks, 64 wide, 4 heads, context 32; 115,431 float32 parameters; 1,500 steps
of 16 windows): train loss 1.81, val loss 1.75 (nats per character; the held-out last tenth of the
topics happens to be easier text; uniform over the 103 characters is ln 103 = 4.63, the
untrained model 4.95), ~50 s on a 2-core machine (46 s of
CPU time; measured with one BLAS thread while other jobs shared the machine, which took up to
twice as long when they were busier). The sample begins "The is it ayy code the subes* a n
argumentater.   If ("lf" silles a an nar sument": words, spaces, quotes and brackets, not yet
sense. ``--tiny`` (one 32-wide block, 60 steps) takes a few seconds: val loss ~2.7.

Needs the ``examples`` extra (tqdm).

Run: python examples/tiny_gpt.py [--steps N] [--n-layer 2] [--n-embd 64] [--seed S] [--quiet] [--tiny]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

import autograd
import nn
import nn.functional as F
from autograd import Tensor, no_grad

# --tiny: one 32-wide block, 60 steps, a few seconds
TINY = {"steps": 60, "n_layer": 1, "n_embd": 32, "eval_windows": 64, "sample_length": 40}


def python_help_text() -> str:
    """Every help page of ``pydoc_data.topics``, sorted by topic name, joined by blank lines."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[name] for name in sorted(topics))


class Block(nn.Module):
    """A pre-norm transformer block: causal self-attention, then an MLP, each with a residual."""

    def __init__(self, n_embd: int, n_head: int, dropout: float, dtype: Any) -> None:
        self.ln_1 = nn.LayerNorm(n_embd, dtype=dtype)
        self.attn = nn.MultiheadAttention(n_embd, n_head, dropout=dropout, batch_first=True, dtype=dtype)
        self.drop = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(n_embd, dtype=dtype)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd, dtype=dtype),
            nn.GELU(approximate="tanh"),  # GPT-2's GELU
            nn.Linear(4 * n_embd, n_embd, dtype=dtype),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        t = x.shape[1]
        causal = np.triu(np.ones((t, t), dtype=bool), k=1)  # True: query t may not see key j > t
        h = self.ln_1(x)
        attended, _ = self.attn(h, h, h, attn_mask=causal, need_weights=False, is_causal=True)
        x = x + self.drop(attended)
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    """Token and position embeddings, ``n_layer`` blocks, a final LayerNorm and the logits."""

    def __init__(
        self, vocab_size: int, block_size: int, n_embd: int, n_head: int, n_layer: int, dropout: float, dtype: Any
    ) -> None:
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, n_embd, dtype=dtype)
        self.pos_emb = nn.Embedding(block_size, n_embd, dtype=dtype)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, dropout, dtype) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd, dtype=dtype)
        self.head = nn.Linear(n_embd, vocab_size, dtype=dtype)
        for emb in (self.tok_emb, self.pos_emb):  # GPT-2's N(0, 0.02), not Embedding's N(0, 1)
            nn.init.normal_(emb.weight, std=0.02)

    def forward(self, idx: np.ndarray) -> Tensor:
        """Logits (B, T, vocab) for token indices ``idx`` (B, T), T <= block_size."""
        t = idx.shape[1]
        if t > self.block_size:
            raise ValueError(f"TinyGPT: context of {t} tokens is longer than block_size {self.block_size}")
        x = self.drop(self.tok_emb(idx) + self.pos_emb(np.arange(t)))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def loss_of(model: TinyGPT, x: np.ndarray, y: np.ndarray) -> Tensor:
    """Mean cross-entropy of the next token at every position."""
    logits = model(x)
    b, t, v = logits.shape
    return F.cross_entropy(logits.reshape(b * t, v), y.reshape(b * t))


def windows(data: np.ndarray, starts: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs data[s : s + T] and targets data[s + 1 : s + T + 1] for each start s."""
    offsets = np.arange(block_size)
    return data[starts[:, None] + offsets], data[starts[:, None] + offsets + 1]


def estimate_loss(model: TinyGPT, data: np.ndarray, starts: np.ndarray, batch_size: int) -> float:
    """Mean loss over the windows at ``starts``, in eval mode (no dropout), without a graph."""
    model.eval()
    with no_grad():
        losses = [
            loss_of(model, *windows(data, starts[i : i + batch_size], model.block_size)).item()
            for i in range(0, len(starts), batch_size)
        ]
    model.train()
    return float(np.mean(losses))


def generate(model: TinyGPT, prompt: np.ndarray, length: int) -> np.ndarray:
    """``prompt`` (1-D token indices) followed by ``length`` sampled tokens."""
    idx = np.asarray(prompt, dtype=np.int64)
    model.eval()
    with no_grad():
        for _ in range(length):
            logits = model(idx[None, -model.block_size :])[0, -1]  # the last position's (vocab,) logits
            ix = autograd.multinomial(logits.softmax(axis=-1), num_samples=1, replacement=True)
            idx = np.append(idx, ix.data)
    model.train()
    return idx


def show_progress(quiet: bool) -> bool:
    """A progress bar in Jupyter or on a terminal; none with --quiet or when the output goes to a pipe or a file."""
    if quiet:
        return False
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    in_jupyter = shell is not None and "IPKernelApp" in shell.config
    return in_jupyter or all(stream is not None and stream.isatty() for stream in (sys.stdout, sys.stderr))


def train(args: argparse.Namespace) -> dict[str, Any]:
    from tqdm.auto import tqdm  # a widget in Jupyter, a text line on a terminal

    autograd.manual_seed(args.seed)  # init, dropout masks, batches and samples all draw from it
    dtype = np.dtype(args.dtype)
    text = python_help_text()
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    unknown = sorted(set(args.prompt) - set(stoi))
    if not args.prompt or unknown:
        raise ValueError(f"tiny_gpt: the prompt must be non-empty and use the text's characters; not in it: {unknown}")
    data = np.array([stoi[ch] for ch in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]

    model = TinyGPT(len(chars), args.block_size, args.n_embd, args.n_head, args.n_layer, args.dropout, dtype)
    optimizer = nn.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.1)
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.steps, eta_min=args.lr / 10)
    rng = autograd.random.default_generator()

    # the same windows before and after training (their own generator: the training stream is untouched)
    eval_rng = np.random.default_rng(args.seed + 1)
    eval_starts = {
        name: eval_rng.integers(0, len(part) - args.block_size, args.eval_windows)
        for name, part in (("train", train_data), ("val", val_data))
    }
    parts = {"train": train_data, "val": val_data}
    initial = {name: estimate_loss(model, parts[name], eval_starts[name], 64) for name in parts}

    losses = []
    every = max(1, args.steps // 10)
    bar = tqdm(range(args.steps), desc="tiny_gpt", unit="step", disable=not show_progress(args.quiet))
    for step in bar:
        starts = rng.integers(0, len(train_data) - args.block_size, args.batch_size)
        loss = loss_of(model, *windows(train_data, starts, args.block_size))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if step % every == 0 or step == args.steps - 1:
            recent = float(np.mean(losses[-every:]))
            bar.set_postfix(loss=f"{recent:.4f}")
            if not args.quiet and bar.disable:  # no bar (output to a pipe or a file): a line now and then instead
                print(f"step {step:5d}  minibatch loss {recent:.4f}")
    bar.close()

    final = {name: estimate_loss(model, parts[name], eval_starts[name], 64) for name in parts}
    prompt = np.array([stoi[ch] for ch in args.prompt], dtype=np.int64)
    sample = "".join(chars[i] for i in generate(model, prompt, args.sample_length))
    return {
        "characters": len(text),
        "vocab_size": len(chars),
        "parameters": sum(p.size for p in model.parameters()),
        "initial_train_loss": initial["train"],
        "initial_val_loss": initial["val"],
        "train_loss": final["train"],
        "val_loss": final["val"],
        "losses": losses,
        "sample": sample,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, print the losses and a sample.

    ``argv`` is the command line's arguments (``None``: the defaults; the script passes its own),
    e.g. ``main(["--tiny", "--quiet"])`` from a notebook. Returns a dict: ``characters``,
    ``vocab_size`` and ``parameters`` (counts), ``initial_train_loss``, ``initial_val_loss``,
    ``train_loss`` and ``val_loss`` (nats per character), ``losses`` (each step's minibatch loss)
    and ``sample`` (the text it wrote). It draws no figures.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500, help="AdamW steps")
    parser.add_argument("--batch-size", type=int, default=16, help="windows per minibatch")
    parser.add_argument("--block-size", type=int, default=32, help="context length, in characters")
    parser.add_argument("--n-embd", type=int, default=64, help="width of the residual stream")
    parser.add_argument("--n-head", type=int, default=4, help="attention heads per block")
    parser.add_argument("--n-layer", type=int, default=2, help="transformer blocks")
    parser.add_argument("--dropout", type=float, default=0.1, help="dropout probability")
    parser.add_argument("--lr", type=float, default=3e-3, help="AdamW's peak learning rate (cosine down to lr / 10)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"], help="parameter dtype")
    parser.add_argument("--eval-windows", type=int, default=256, help="windows the train and val losses average over")
    parser.add_argument("--prompt", default="The ", help="text the sample starts from")
    parser.add_argument("--sample-length", type=int, default=300, help="characters to sample")
    parser.add_argument("--seed", type=int, default=1337, help="seed for init, dropout, batches and sampling")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-step lines")
    parser.add_argument("--tiny", action="store_true", help="a quick run: one 32-wide block, 60 steps")
    argv = [] if argv is None else argv
    args = parser.parse_args(argv)
    if args.tiny:  # smaller defaults; flags given explicitly still win
        parser.set_defaults(**TINY)
        args = parser.parse_args(argv)
    if min(args.steps, args.batch_size, args.block_size, args.n_layer, args.eval_windows) < 1:
        parser.error("--steps, --batch-size, --block-size, --n-layer and --eval-windows must be at least 1")
    if args.n_embd % args.n_head:
        parser.error(f"--n-embd {args.n_embd} must be divisible by --n-head {args.n_head}")

    results = train(args)
    print(f"characters {results['characters']}  vocabulary {results['vocab_size']}  parameters {results['parameters']}")
    print(f"initial val loss {results['initial_val_loss']:.4f}")
    print(f"train loss {results['train_loss']:.4f}")
    print(f"val loss {results['val_loss']:.4f}")
    print("sample:")
    print(results["sample"])
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
