"""Tensor summaries computed where the tensor lives, moved to the host in one transfer.

A summary is a dict: {shape, dtype, device, norm, mean, std, min, max, nan, inf, values?}.
`Batch.add(tensor)` queues a tensor; `Batch.finish()` does all the device work, one host
copy per device, and returns the summaries in the order they were added. A light batch
(`Batch(light=True)`, light-detail iterations) computes only {shape, dtype, device, norm,
nan, inf}.

Cost: tiny tensors are concatenated and reduced together (segment reductions), small ones of one
size stacked and reduced by rows; larger ones, read as they are (no copy): on the CPU, dense ones (or a
permutation of a dense block) through numpy (min, max, and two BLAS dots for the sum and the sum of
squares), others take three torch reductions each (aminmax, sum, norm), one tensor after another so the
second and third read it from the cache.
On the CPU their std comes from the sums (sum of squares less the squared mean), taken again
in two passes where the mean dwarfs the spread (a host read, no transfer); on accelerators it is
the two-pass ||f - mean||. Views of the same elements (a weight and its transpose) are reduced
once. NaN/Inf are not counted up front: when a tensor's statistics are all finite it has none. Only a tensor
with a non-finite (or overflowed) statistic is looked at again, exactly, in float64: a second
transfer, in that iteration only.
"""

from __future__ import annotations

import math

import torch

MAX_VALUES = 64  # tensors up to this many elements keep their full values
FIELDS = ("norm", "mean", "std", "min", "max", "nan", "inf")
_SMALL = 64  # tensors up to this size are reduced together in one concatenation
_CHUNK = 1 << 20  # elements concatenated per segmented reduction
_STACK = 4096  # tensors up to this size, several of one size, are stacked and reduced by rows (larger ones
# cost more to copy than their reductions cost to dispatch)
_FLOAT = (torch.float32, torch.float64)  # summarised as they are: any strides, no copy
_HALF = (torch.float16, torch.bfloat16)
_FOREACH = (torch.float32, torch.float64, *_HALF)  # what _foreach_norm takes

host_transfers = 0  # counted so tests can check "one transfer per iteration"


def to_host(t: torch.Tensor) -> list[float]:
    """The only device-to-host copy the tracer makes."""
    global host_transfers
    host_transfers += 1
    return t.cpu().tolist()


def cpu_value(t: torch.Tensor) -> float:
    """The value of a one-element tensor already on the host: no transfer, no sync (CPU only)."""
    if t.device.type != "cpu":
        raise ValueError("cpu_value reads host tensors only; others go through Batch.finish")
    return t.detach().item()


_names: dict = {}  # dtype / device -> its name as summaries spell it ("float32", "cpu")


def name_of(x: torch.dtype | torch.device) -> str:
    """`float32` for torch.float32, `cuda:0` for a device (cached: called per node per iteration)."""
    s = _names.get(x)
    if s is None:
        s = _names[x] = str(x).removeprefix("torch.")
    return s


def describe(t: torch.Tensor) -> dict:
    dtype, device = t.dtype, t.device
    return {"shape": list(t.shape), "dtype": _names.get(dtype) or name_of(dtype),
            "device": _names.get(device) or name_of(device)}


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

    def __init__(self, values_limit: int = MAX_VALUES, light: bool = False):
        self.values_limit = values_limit
        self.light = light
        self._items: list[tuple[dict, torch.Tensor | None, bool]] = []

    def __len__(self) -> int:
        return len(self._items)

    def add(self, t: torch.Tensor, values: bool = True) -> int:
        """Queue a tensor; returns the index of its summary in `finish()`."""
        head = describe(t)
        if t.dtype in (_FOREACH if self.light else _FLOAT) and t.layout is torch.strided and head["device"] != "meta":
            # as it is: the reductions take any strides (no copy), under no_grad
            self._items.append((head, t, values and not self.light and t.numel() <= self.values_limit))
            return len(self._items) - 1
        flat, why = _numeric(t)
        if why:
            head["note"] = why
        self._items.append((head, flat, values and flat is not None and flat.numel() <= self.values_limit))
        return len(self._items) - 1

    def finish(self, extra: list[torch.Tensor] | None = None) -> tuple[list[dict], list[float]]:
        """Summaries in order, and the host values of `extra` 0-d tensors (same transfer)."""
        with torch.no_grad():
            return self._finish(extra or [])

    def _finish(self, extra: list[torch.Tensor]) -> tuple[list[dict], list[float]]:
        by_device: dict[torch.device, list[int]] = {}
        for i, (_, flat, _) in enumerate(self._items):
            if flat is not None:
                by_device.setdefault(flat.device, []).append(i)
        for t in extra:
            by_device.setdefault(t.device, [])
        out = [head for head, _, _ in self._items]  # made by add() for this batch only
        extra_host: list[float] = [float("nan")] * len(extra)
        width = len(FIELDS)
        recheck: list[int] = []  # items with a non-finite statistic: NaN/Inf counted exactly afterwards
        one_pass: list[int] = []  # items whose std was taken in one pass (every device's)
        for device, idx in by_device.items():
            mine = [k for k, t in enumerate(extra) if t.device == device]
            if self.light:  # one norm per item; all finite (the usual case) means no NaN/Inf anywhere
                norms, order = _norms([self._items[i][1] for i in idx], idx)
                parts = norms + [extra[k].detach().reshape(-1)[0] for k in mine]
                host = to_host(torch.stack(parts)) if parts else []
                for i, v in zip(order, host, strict=False):
                    s = out[i]
                    s["norm"], s["nan"], s["inf"] = v, 0, 0
                if not math.isfinite(sum(host[:len(order)])):
                    recheck += [i for i, v in zip(order, host, strict=False) if not math.isfinite(v)]
                for pos, k in enumerate(mine, len(order)):
                    extra_host[k] = host[pos]
                continue
            rows, order, exact, device_one_pass = self._rows(idx) if idx else (None, [], 0, [])
            one_pass += device_one_pass
            pieces = [rows.reshape(-1)] if idx else []
            with_values = [i for i in idx if self._items[i][2]]
            pieces += [self._items[i][1].reshape(-1).to(torch.float64) for i in with_values]
            pieces += [extra[k].detach().reshape(-1)[:1].to(torch.float64) for k in mine]
            host = to_host(torch.cat(pieces) if len(pieces) > 1 else pieces[0]) if pieces else []
            finite = math.isfinite(sum(host[exact * width:len(order) * width]))  # almost always
            for j, i in enumerate(order):
                row = host[j * width:(j + 1) * width]
                s = out[i]
                s.update(zip(FIELDS, row, strict=True))
                s["nan"], s["inf"] = int(row[5]), int(row[6])
                if not finite and j >= exact and not all(math.isfinite(v) for v in row):
                    recheck.append(i)
            pos = len(order) * width
            for i in with_values:
                n = self._items[i][1].numel()
                out[i]["values"] = _nest(host[pos:pos + n], out[i]["shape"])
                pos += n
            for k in mine:
                extra_host[k] = host[pos]
                pos += 1
        if recheck:
            self._exact(recheck, out)
        for i in one_pass:  # a one-pass std loses digits where the mean dwarfs the spread: two passes there
            s, f = out[i], self._items[i][1]
            s["std"] = _std_retaken(f, s["std"], s["norm"])
        self._items.clear()
        return out, extra_host

    def _rows(self, idx: list[int]) -> tuple[torch.Tensor, list[int], int, list[int]]:
        """Statistics rows (float64, on the device), the item of each row, how many leading rows are exact,
        and the items whose std was taken in one pass (on the CPU: checked after the transfer)."""
        flats = [self._items[i][1] for i in idx]
        first: dict = {}  # views of the same elements (a weight and its transpose): one row, copied
        twins: list[tuple[int, int]] = []
        keep: list[int] = []
        for j, f in enumerate(flats):
            if f.numel() > _SMALL:
                j0 = first.setdefault(_elements(f), j)
                if j0 != j:
                    twins.append((j, j0))
                    continue
            keep.append(j)
        same: dict[tuple, list[int]] = {}  # tensors of one size and dtype: reduced as rows of a stack
        for j in keep:
            f = flats[j]
            if 0 < f.numel() <= _STACK:
                same.setdefault((f.numel(), f.dtype), []).append(j)
        stacked = [group for group in same.values() if len(group) > 1]
        alone = set(keep).difference(*stacked)
        small = [j for j in sorted(alone) if flats[j].numel() <= _SMALL]
        large = [j for j in sorted(alone) if flats[j].numel() > _SMALL]
        blocks, order = [], []
        start = 0
        while start < len(small):  # segment reductions over concatenations of tiny tensors
            stop, total = start, 0
            while stop < len(small) and (stop == start or total + flats[small[stop]].numel() <= _CHUNK):
                total += flats[small[stop]].numel()
                stop += 1
            blocks.append(_segment_stats([flats[j].reshape(-1) for j in small[start:stop]]))
            order += [idx[j] for j in small[start:stop]]
            start = stop
        exact = len(order)
        for group in stacked:
            blocks.append(_stacked_stats([flats[j].reshape(-1) for j in group]))
            order += [idx[j] for j in group]
        one_pass = []
        if large:
            cpu = flats[large[0]].device.type == "cpu"  # a host read is free there: one pass, checked after
            rows, ids = _large_stats([flats[j] for j in large], [idx[j] for j in large], one_pass=cpu)
            blocks.append(rows)
            order += ids
            if cpu:
                one_pass = ids
        rows = torch.cat(blocks) if blocks else torch.zeros(0)
        if twins:
            at = {i: r for r, i in enumerate(order)}
            rows = torch.cat([rows, rows[[at[idx[j0]] for _, j0 in twins]]])
            order += [idx[j] for j, _ in twins]
        return rows, order, exact, one_pass

    def _exact(self, items: list[int], out: list[dict]) -> None:
        """Exact NaN/Inf counts and an overflow-safe float64 norm for `items` (rare: not finite)."""
        by_device: dict[torch.device, list[int]] = {}
        for i in items:
            by_device.setdefault(self._items[i][1].device, []).append(i)
        for idx in by_device.values():
            rows = torch.stack([_exact_stats(self._items[i][1]) for i in idx])
            host = to_host(rows.reshape(-1))
            for j, i in enumerate(idx):
                row = dict(zip(FIELDS, host[j * 7:(j + 1) * 7], strict=True))
                keep = ("norm", "nan", "inf") if self.light else FIELDS
                out[i].update({k: row[k] for k in keep})
                out[i]["nan"], out[i]["inf"] = int(row["nan"]), int(row["inf"])


def _norms(flats: list[torch.Tensor], idx: list[int]) -> tuple[list[torch.Tensor], list[int]]:
    """Each tensor's 2-norm as a 0-d tensor (one _foreach_norm per dtype), and the item of each."""
    by_dtype: dict[torch.dtype, list[int]] = {}
    for j, f in enumerate(flats):
        by_dtype.setdefault(f.dtype, []).append(j)
    norms, order = [], []
    for dtype, group in by_dtype.items():
        ts = [flats[j] for j in group]
        # half types accumulate in float32; float32 takes the fast kernel only without dtype=
        norms += torch._foreach_norm(ts, 2, dtype=torch.float32) if dtype in _HALF else torch._foreach_norm(ts)
        order += [idx[j] for j in group]
    return norms, order


def _stacked_stats(flats: list[torch.Tensor]) -> torch.Tensor:
    """[n, 7] rows for tensors of one size and dtype: row reductions of their stack (a handful of ops
    for all of them, where per-tensor reductions cost a few µs of dispatch each), NaN/Inf 0."""
    x = torch.stack(flats)
    mean = x.mean(1)
    mn, mx = x.amin(1), x.amax(1)  # not aminmax: 20x slower by rows on CPU
    norm = torch.linalg.vector_norm(x, dim=1)
    std = torch.linalg.vector_norm(x - mean[:, None], dim=1) / math.sqrt(x.shape[1])
    rows = torch.stack([norm, mean, std, mn, mx], 1).to(torch.float64)
    return torch.cat([rows, rows.new_zeros(len(flats), 2)], 1)


def _large_stats(flats: list[torch.Tensor], idx: list[int], one_pass: bool) -> tuple[torch.Tensor, list[int]]:
    """[n, 7] rows for tensors of more than _SMALL elements, NaN/Inf 0; and the item of each row. std from
    the sum of squares when `one_pass` (the caller retakes it where that loses digits), else the two-pass
    ||f - mean|| (on accelerators, where a retake would be a second transfer). One pass (host tensors): dense
    float ones through numpy (min, max and two BLAS dots: ~30 % less than torch's three reductions, which
    the others take, one tensor after another so the later ones read it from the cache)."""
    arrays = [_host_array(f) if one_pass else None for f in flats]
    on_host = [j for j, a in enumerate(arrays) if a is not None]
    rest = [j for j, a in enumerate(arrays) if a is None]
    blocks, order = [], []
    if on_host:
        blocks.append(_numpy_rows([arrays[j] for j in on_host]))
        order += on_host
    by_dtype: dict[torch.dtype, list] = {}
    rows_of: dict[torch.dtype, list] = {}
    for j in rest:
        f = flats[j]
        mn, mx = torch.aminmax(f) if f.is_contiguous() else (f.amin(), f.amax())  # aminmax: 5x slower strided
        if one_pass:
            part = (torch.linalg.vector_norm(f), f.sum(), mn, mx)
        else:
            mean = f.mean()
            part = (torch.linalg.vector_norm(f), mean, torch.linalg.vector_norm(f - mean), mn, mx)
        by_dtype.setdefault(f.dtype, []).extend(part)
        rows_of.setdefault(f.dtype, []).append(j)
    order += [j for js in rows_of.values() for j in js]
    width = 4 if one_pass else 5
    blocks += [torch.stack(v).to(torch.float64).reshape(-1, width) for v in by_dtype.values()]
    rows = torch.cat(blocks) if len(blocks) > 1 else blocks[0]
    sizes = torch.tensor([flats[j].numel() for j in order], dtype=torch.float64, device=rows.device)
    norm = rows[:, 0]
    if one_pass:
        mean = rows[:, 1] / sizes
        std = (norm * norm / sizes - mean * mean).clamp(min=0).sqrt()
        rows = torch.stack([norm, mean, std, rows[:, 2], rows[:, 3]], 1)
    else:
        rows[:, 2] /= sizes.sqrt()
    return torch.cat([rows, rows.new_zeros(len(order), 2)], 1), [idx[j] for j in order]


def _host_array(f: torch.Tensor):
    """`f`'s elements as a flat numpy array (no copy) when it is a float tensor in host memory whose elements
    are one dense block (contiguous, or a transpose or permutation of such: the same elements in another
    order, so the same statistics)."""
    if type(f) not in _PLAIN or f.dtype not in _FLOAT or f.device.type != "cpu" or f.is_neg():
        return None  # subclasses (DTensor, fakes...) keep their own dispatch: torch's reductions
    if not f.is_contiguous():
        if type(_elements(f)[2]) is not int:
            return None
        f = f.as_strided((f.numel(),), (1,))  # the block in memory order
    return f.detach().numpy().reshape(-1)


_PLAIN = (torch.Tensor, torch.nn.Parameter)
_ones: dict = {}  # numpy dtype -> a ones vector (dot with it: a fast sum)


def _numpy_rows(arrays: list) -> torch.Tensor:
    """[n, 4] float64 rows (norm, sum, min, max) of flat numpy arrays: BLAS dots for the sums."""
    out = torch.tensor([_numpy_row(a) for a in arrays], dtype=torch.float64)
    out[:, 0] = out[:, 0].sqrt()
    return out


def _numpy_row(a) -> tuple:
    """(sum of squares, sum, min, max) of a flat numpy array."""
    import numpy as np

    ones = _ones.get(a.dtype)
    if ones is None or ones.size < a.size:
        ones = _ones[a.dtype] = np.ones(max(a.size, 1 << 16), dtype=a.dtype)
    return np.dot(a, a), np.dot(a, ones[:a.size]), np.minimum.reduce(a), np.maximum.reduce(a)


def host_summary(t: torch.Tensor) -> dict | None:
    """A full summary of a large host tensor taken now, with no transfer (None for tensors that are not
    dense float ones in host memory, or small enough to keep their values): what Batch would say of it.
    The forward capture takes it as each op's output is made, so the tensor need not be held."""
    if t.numel() <= MAX_VALUES:
        return None
    a = _host_array(t)
    if a is None:
        return None
    s = describe(t)
    n = a.size
    sq, total, lo, hi = (float(v) for v in _numpy_row(a))
    norm, mean = math.sqrt(sq), total / n
    std = math.sqrt(max(sq / n - mean * mean, 0.0))
    if not math.isfinite(sq + total + lo + hi):  # rare: NaN/Inf counted exactly, overflow-safe norm
        row = [cpu_value(v) for v in _exact_stats(t.detach().reshape(-1))]
        s.update(zip(FIELDS, row, strict=True))
        s["nan"], s["inf"] = int(row[5]), int(row[6])
        return s
    s.update(norm=norm, mean=mean, std=_std_retaken(t.detach(), std, norm), min=lo, max=hi, nan=0, inf=0)
    return s


def _std_retaken(f: torch.Tensor, std: float, norm: float) -> float:
    """A one-pass std (from the sum of squares), or, where the mean dwarfs the spread and it lost its digits,
    the two-pass ||f - mean|| of host tensor `f` in float64 (a host read, no transfer)."""
    n = f.numel()
    if std * std * 100 >= norm * norm / n:
        return std
    d = f.to(torch.float64)
    return cpu_value(torch.linalg.vector_norm(d - d.mean())) / math.sqrt(n)


def same_elements(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two tensors of one storage read the same elements (so their statistics are the same)."""
    return a.dtype == b.dtype and a.numel() == b.numel() and _elements(a) == _elements(b)


def _elements(t: torch.Tensor) -> tuple:
    """Which elements a tensor reads (views of them have the same statistics): a dense block from its
    first element (any order of dims: a transpose, a reshape of a contiguous tensor), else its exact
    strides and sizes from its first element."""
    if t.is_contiguous():
        return t.data_ptr(), t.dtype, t.numel()
    pairs = sorted((st, n) for st, n in zip(t.stride(), t.shape, strict=True) if n != 1)
    step = 1
    for st, n in pairs:
        if st != step:
            return t.data_ptr(), t.dtype, tuple(pairs)
        step *= n
    return t.data_ptr(), t.dtype, step


def _exact_stats(f: torch.Tensor) -> torch.Tensor:
    """All seven statistics of one flat tensor in float64, NaN/Inf counted, no overflow."""
    if f.numel() == 0:
        return torch.zeros(len(FIELDS), dtype=torch.float64, device=f.device)
    d = f.to(torch.float64)
    mn, mx = torch.aminmax(d)
    std, mean = torch.std_mean(d, correction=0)
    scale = d.abs().amax()
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    norm = torch.linalg.vector_norm(d / safe) * safe
    nan, inf = torch.isnan(d).sum().to(d.dtype), torch.isinf(d).sum().to(d.dtype)
    norm = torch.where((inf > 0) & (nan == 0), math.inf, norm)  # inf/inf scaling would say NaN
    return torch.stack([norm, mean, std, mn, mx, nan, inf])


def _segment_stats(flats: list[torch.Tensor]) -> torch.Tensor:
    """[n, 7] float64 rows for tiny tensors: segmented reductions over one concatenation."""
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
    norm = torch.where((counts[:, 1] > 0) & (counts[:, 0] == 0), math.inf, norm)  # inf/inf scaling says NaN
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
