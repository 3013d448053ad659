"""Character-level tokenizer shared by every replicate task.

One character is one token; the vocabulary is fixed (< 64 symbols) so checkpoints made for one
task can be read by code written for another. Three specials: ``_`` pad, ``^`` bos (unused by the
current tasks, kept so the ids stay stable), ``$`` eos.

    >>> tok = CharTokenizer()
    >>> tok.decode(tok.encode("3+5=8$"))
    '3+5=8$'
"""

from __future__ import annotations

import torch

PAD, BOS, EOS = "_", "^", "$"
# Order matters: ids are positions in this string; append only, never reorder.
VOCAB = PAD + BOS + EOS + "0123456789+-*/%=,;:|.>?()abcdefghMC "


class CharTokenizer:
    """Maps characters of :data:`VOCAB` to ids and back."""

    def __init__(self, vocab: str = VOCAB) -> None:
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocabulary has duplicate characters")
        self.vocab = vocab
        self.stoi = {c: i for i, c in enumerate(vocab)}
        self.pad_id, self.bos_id, self.eos_id = (self.stoi[c] for c in (PAD, BOS, EOS))

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        """Encode ``text``; raises ``KeyError`` on a character outside the vocabulary."""
        return [self.stoi[c] for c in text]

    def decode(self, ids) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    def decode_response(self, ids) -> str:
        """Decode up to (not including) the first eos or pad."""
        out = []
        for i in ids:
            i = int(i)
            if i in (self.eos_id, self.pad_id):
                break
            out.append(self.vocab[i])
        return "".join(out)

    def encode_batch(self, texts: list[str], length: int, *, left_pad: bool) -> torch.Tensor:
        """Encode and pad every text to ``length`` (left or right) as a (B, length) long tensor."""
        rows = []
        for t in texts:
            ids = self.encode(t)
            if len(ids) > length:
                raise ValueError(f"text of {len(ids)} tokens exceeds length {length}: {t!r}")
            pad = [self.pad_id] * (length - len(ids))
            rows.append(pad + ids if left_pad else ids + pad)
        return torch.tensor(rows, dtype=torch.long)
