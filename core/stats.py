"""Tensor summaries computed where the tensor lives, moved to the host in one transfer.

A summary is a dict: {shape, dtype, norm, mean, std, min, max, nan, inf, values?}.
`Batch.add(tensor)` queues a tensor; `Batch.finish()` does all the device work,
one host copy per device, and returns the summaries in the order they were added.
"""

from __future__ import annotations

import torch

MAX_VALUES = 64  # tensors up to this many elements keep their full values
FIELDS = ("norm", "mean", "std", "min", "max", "nan", "inf")
_CHUNK = 1 << 20  # elements concatenated per segmented reduction
_SMALL = 1 << 16  # larger tensors are reduced one by one

host_transfers = 0  # counted so tests can check "one transfer per iteration"


def to_host(t: torch.Tensor) -> list[float]:
    """The only device-to-host copy the tracer makes."""
    global host_transfers
    host_transfers += 1
    return t.cpu().tolist()


def describe(t: torch.Tensor) -> dict:
    return {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."), "device": str(t.device)}


def _numeric(t: torch.Tensor) -> tuple[torch.Tensor | None, str | None]:
    """A dense real floating view of `t` for statistics, or a reason why there is none."""
    if t.device.type == "meta":
        return None, "tensor on meta device has no data"
    if t.is_sparse or t.layout != torch.strided:
        if t.is_sparse and t._nnz() <= _CHUNK:
            t = t.to_dense()
        else:
            return None, f"{t.layout} tensor not summarised"
    if t.is_complex():
        t = t.abs()
    if t.dtype == torch.bool or not t.is_floating_point():
        t = t.to(torch.float64)
    elif t.dtype not in (torch.float32, torch.float64):
        t = t.float()
    return t.detach().reshape(-1), None


class Batch:
    """Collects tensors during an iteration and summarises them together."""

    def __init__(self, values_limit: int = MAX_VALUES):
        self.values_limit = values_limit
        self._items: list[tuple[dict, torch.Tensor | None, bool]] = []

    def __len__(self) -> int:
        return len(self._items)

    def add(self, t: torch.Tensor, values: bool = True) -> int:
        """Queue a tensor; returns the index of its summary in `finish()`."""
        head = describe(t)
        flat, why = _numeric(t)
        if why:
            head["note"] = why
        self._items.append((head, flat, values and flat is not None and flat.numel() <= self.values_limit))
        return len(self._items) - 1

    def finish(self, extra: list[torch.Tensor] | None = None) -> tuple[list[dict], list[float]]:
        """Summaries in order, and the host values of `extra` 0-d tensors (same transfer)."""
        by_device: dict[torch.device, list[int]] = {}
        for i, (_, flat, _) in enumerate(self._items):
            if flat is not None:
                by_device.setdefault(flat.device, []).append(i)
        extra = extra or []
        for t in extra:
            by_device.setdefault(t.device, [])
        out = [dict(head) for head, _, _ in self._items]
        extra_host: list[float] = [float("nan")] * len(extra)
        for device, idx in by_device.items():
            pieces = [self._stats(idx)] if idx else []
            vals = [self._items[i][1] for i in idx if self._items[i][2]]
            pieces += [v.to(torch.float64) for v in vals]
            mine = [k for k, t in enumerate(extra) if t.device == device]
            pieces += [extra[k].detach().reshape(-1)[:1].to(torch.float64) for k in mine]
            host = to_host(torch.cat([p.reshape(-1) for p in pieces])) if pieces else []
            pos = 0
            for i in idx:
                row = host[pos:pos + len(FIELDS)]
                pos += len(FIELDS)
                out[i].update(zip(FIELDS, row, strict=True))
                out[i]["nan"] = int(out[i]["nan"])
                out[i]["inf"] = int(out[i]["inf"])
            for i in idx:
                if self._items[i][2]:
                    n = self._items[i][1].numel()
                    out[i]["values"] = _nest(host[pos:pos + n], out[i]["shape"])
                    pos += n
            for k in mine:
                extra_host[k] = host[pos]
                pos += 1
        self._items.clear()
        return out, extra_host

    def _stats(self, idx: list[int]) -> torch.Tensor:
        """[len(idx), 7] float64 statistics: small tensors by segmented reductions over one
        concatenation, large ones one by one with torch's (cascade-summed) reductions."""
        flats = [self._items[i][1] for i in idx]
        small = [k for k, f in enumerate(flats) if f.numel() <= _SMALL]
        rows: list = [None] * len(flats)
        start = 0
        while start < len(small):
            stop, total = start, 0
            while stop < len(small) and (stop == start or total + flats[small[stop]].numel() <= _CHUNK):
                total += flats[small[stop]].numel()
                stop += 1
            block = _segment_stats([flats[k] for k in small[start:stop]])
            for j, k in enumerate(small[start:stop]):
                rows[k] = block[j]
            start = stop
        for k, f in enumerate(flats):
            if rows[k] is None:
                rows[k] = _tensor_stats(f)
        return torch.stack(rows)


def _tensor_stats(f: torch.Tensor) -> torch.Tensor:
    """Statistics of one large flat tensor (accurate sums: no float32 running total)."""
    mn, mx = torch.aminmax(f)
    std, mean = torch.std_mean(f, correction=0)
    scale = f.abs().amax()
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    norm = torch.linalg.vector_norm(f / safe) * safe
    row = [norm, mean, std, mn, mx, torch.isnan(f).sum(), torch.isinf(f).sum()]
    return torch.stack([r.to(torch.float64) for r in row])


def _segment_stats(flats: list[torch.Tensor]) -> torch.Tensor:
    dtype = torch.float64  # small tensors: exact-enough sums are cheap
    device = flats[0].device
    lengths = torch.tensor([f.numel() for f in flats], device=device)
    data = torch.cat([f.to(dtype) for f in flats])
    if data.numel() == 0:
        return torch.zeros(len(flats), len(FIELDS), dtype=torch.float64, device=device)
    nan = torch.isnan(data)
    inf = torch.isinf(data)
    finite_lengths = lengths.clamp(min=1).to(dtype)

    def seg(x: torch.Tensor, how: str) -> torch.Tensor:
        return torch.segment_reduce(x, how, lengths=lengths, unsafe=True)

    total = seg(data, "sum")
    mean = total / finite_lengths
    centred = data - torch.repeat_interleave(mean, lengths)
    var = seg(centred * centred, "sum") / finite_lengths
    scale = seg(data.abs(), "max")
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    scaled = data / torch.repeat_interleave(safe, lengths)
    norm = torch.sqrt(seg(scaled * scaled, "sum")) * safe
    mn = seg(data, "min")
    mx = seg(data, "max")
    counts = torch.stack([seg(nan.to(dtype), "sum"), seg(inf.to(dtype), "sum")], 1)
    empty = lengths == 0
    stats = torch.stack([norm, mean, var.sqrt(), mn, mx], 1)
    stats = torch.where(empty[:, None], torch.zeros_like(stats), stats)
    return torch.cat([stats, counts], 1).to(torch.float64)


def _nest(flat: list[float], shape: list[int]):
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def summarize(tensors: list[torch.Tensor]) -> list[dict]:
    """Convenience: summaries of a list of tensors (one transfer per device)."""
    batch = Batch()
    for t in tensors:
        batch.add(t)
    return batch.finish()[0]
