#!/usr/bin/env python3
"""Independent reference for the KV-cache methods of methods/ (golden fixtures for
tests/test_methods_ref.c).

Re-run (from the repository root; needs torch and numpy, takes a few seconds):

    python3 tools/ref_methods/ref_methods.py

It writes tests/fixtures/methods/ref_<case>.bin (random fp32 Q/K per layer plus this script's
window_attn and accum_attn) and tests/fixtures/methods/ref_methods.json (the cases, their head
scores, and for every (method, budget, parameters) run the token positions each (layer, KV head)
keeps). The C test recomputes the statistics from Q/K with methods/attn_reference.c, runs the C
policies and requires the same kept SETS.

Written from the formulas in shared/research/sparsemm.md §2 and baselines.md §1-§4, the way the
official code computes them (sparsemm_utils.py, KVCache-Factory), not from the C code:
  * window scores: softmax of the last w queries over all keys, causal mask inside the window
    block (finfo.min added), mean over the window queries, candidates [0, n-w), GQA mean over
    consecutive query heads, F.avg_pool1d(kernel, stride 1, padding kernel//2) with its default
    count_include_pad=True, topk per KV head, plus the last w positions;
  * per-method allocation as the official classes do it (pyramid integer schedule, AdaKV's global
    topk with torch.round of a float32 product, SparseMM's float64 normalisation and torch.round).
Everything is computed in float64 from the stored fp32 Q/K, so the reference is the exact
formula; the C side computes in fp32 like the engine. Selections are only meaningful when no two
candidates sit near the top-k boundary, so the script checks every boundary for a relative margin
of MARGIN and fails loudly (choose another seed) if one is too close; ties then cannot occur.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

DT = torch.float64
MAGIC = b"SMMMETH1"
VERSION = 1
W = 32          # window of the stored window_attn (the harness default)
MARGIN = 1e-5   # relative gap required at every top-k boundary
OUT = "tests/fixtures/methods"

CASES = [
    dict(name="mha", layers=2, heads=4, kv_heads=4, n=157, head_dim=16, seed=11,
         budgets=[33, 40, 64, 100, 128, 157, 200]),
    dict(name="gqa", layers=3, heads=8, kv_heads=2, n=200, head_dim=8, seed=12,
         budgets=[33, 48, 96, 128, 150, 256]),
    dict(name="odd", layers=3, heads=6, kv_heads=3, n=67, head_dim=8, seed=13,
         budgets=[33, 40, 48, 67, 96]),
]

# (method, extra parameters) run at every budget of every case.
PER_BUDGET = [
    ("snapkv", []),
    ("pyramidkv", []),
    ("pyramidkv", ["freeze_first=1"]),
    ("adakv", []),
    ("sparsemm", []),
    ("random", ["seed=7"]),
    ("streamingllm", []),
    ("h2o", []),
]
# Non-default parameters, run at the case's third budget.
VARIANTS = [
    ("snapkv", ["window=8", "kernel=3"]),
    ("pyramidkv", ["beta=5", "window=16"]),
    ("adakv", ["floor=0.5", "normalize=0", "skip=1"]),
    ("adakv", ["window=8", "kernel=7"]),
    ("sparsemm", ["ratio=0.3", "window=16", "kernel=7"]),
    ("random", ["seed=123", "ratio=0"]),
    ("streamingllm", ["sinks=0"]),
    ("streamingllm", ["sinks=10"]),
    ("h2o", ["window=8"]),
]
DEFAULTS = {
    "fullkv": {},
    "snapkv": dict(window=32, kernel=5),
    "pyramidkv": dict(window=32, kernel=5, beta=20, freeze_first=0),
    "adakv": dict(window=32, kernel=5, floor=0.2, normalize=1, skip=0),
    "sparsemm": dict(window=32, kernel=5, ratio=0.1),
    "random": dict(window=32, kernel=5, ratio=0.1, seed=0),
    "mask": dict(ratio=0.1),
    "streamingllm": dict(sinks=4),
    "h2o": dict(window=32),
}


class CloseCall(Exception):
    pass


# ---- attention statistics ----

def repeat_kv(k, groups):
    """[H_kv][n][d] -> [H][n][d], consecutive query heads sharing a KV head (HF repeat_kv)."""
    return k.repeat_interleave(groups, dim=0)


def window_attn(q, k, w):
    """q: [H][n][d], k: [H][n][d] -> [H][n]: mean over the last w queries of the softmax rows."""
    n, d = q.shape[1], q.shape[2]
    w = min(w, n)
    a = q[:, -w:, :] @ k.transpose(1, 2) / math.sqrt(d)
    mask = torch.full((w, w), torch.finfo(DT).min, dtype=DT)
    cond = torch.arange(w)
    mask.masked_fill_(cond < (cond + 1).view(w, 1), 0)
    a[:, :, -w:] += mask
    return torch.softmax(a, dim=-1).mean(dim=1)


def accum_attn(q, k):
    """[H][n]: attention each key receives, summed over all queries, full causal mask."""
    n, d = q.shape[1], q.shape[2]
    a = q @ k.transpose(1, 2) / math.sqrt(d)
    mask = torch.full((n, n), torch.finfo(DT).min, dtype=DT)
    cond = torch.arange(n)
    mask.masked_fill_(cond < (cond + 1).view(n, 1), 0)
    return torch.softmax(a + mask, dim=-1).sum(dim=1)


# ---- selection helpers ----

def check_margin(values, k, what):
    """values: 1-D; the k-th and (k+1)-th largest must be clearly apart."""
    if k <= 0 or k >= values.numel():
        return
    s = values.sort(descending=True).values
    if s[k - 1] - s[k] <= MARGIN * abs(float(s[k - 1])):
        raise CloseCall(f"{what}: top-{k} boundary {float(s[k-1])!r} vs {float(s[k])!r}")


def pooled_scores(wa, kv_heads, w, kernel):
    """wa: [H][n] -> [H_kv][n-w]: candidates, GQA mean, avg_pool1d with zero padding counted."""
    H, n = wa.shape
    s = wa[:, : n - w].reshape(kv_heads, H // kv_heads, n - w).mean(dim=1)
    return F.avg_pool1d(s.unsqueeze(0), kernel_size=kernel, stride=1, padding=kernel // 2).squeeze(0)


def group_mean(a, kv_heads, w):
    H, n = a.shape
    return a[:, : n - w].reshape(kv_heads, H // kv_heads, n - w).mean(dim=1)


def top_plus_window(scores, caps, n, w, what):
    """Per KV head: the top-cap candidates (all when cap >= n-w), then the last w positions."""
    kept = []
    for j in range(scores.shape[0]):
        k = max(0, min(int(caps[j]), n - w))
        check_margin(scores[j], k, f"{what} head {j}")
        idx = scores[j].topk(k).indices.tolist() if k else []
        kept.append(sorted(set(idx) | set(range(n - w, n))))
    return kept


def keep_all(n, kv_heads):
    return [list(range(n)) for _ in range(kv_heads)]


# ---- allocations ----

def pyramid_cap(base, beta, n_layers, layer, n, w):
    if n_layers == 1:
        return base
    lo = base // beta
    hi = base * 2 - lo
    if hi >= n - w:
        hi = n - w
        lo = base * 2 - hi
    steps = (hi - lo) // (n_layers - 1)
    return hi - layer * steps


def sparsemm_caps(head_scores, L, H, Hkv, base, ratio, what):
    lst = [np.float64(x) for x in head_scores]
    total = sum(lst)                       # Python's left-to-right sum, as the official code
    norm = np.array(lst) / total
    score = torch.tensor(norm).view(L, Hkv, H // Hkv).sum(dim=-1)
    min_cache = int(base * ratio)
    remain = (base - min_cache) * L * H // (H // Hkv)
    raw = score * remain + min_cache
    frac = (raw - raw.floor()).abs()
    if ((frac - 0.5).abs() < 1e-9).any():
        raise CloseCall(f"{what}: a capacity sits on a rounding tie")
    return torch.round(raw).int()


def splitmix64_uniforms(seed, count):
    mask = (1 << 64) - 1
    state = seed & mask
    out = []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        out.append((z >> 11) * 2.0 ** -53)
    return out


def adakv_caps(p, base, floor_ratio, normalize, what):
    """p: pooled [H_kv][n_c] -> (caps, order) as AdaKVCluster.update_kv."""
    Hkv, n_c = p.shape
    sorted_scores, order = p.sort(dim=-1, descending=True)
    floor_cap = int(base * floor_ratio)
    adapt = sorted_scores
    if normalize:
        ratio = sorted_scores[:, :base].sum(dim=-1, keepdim=True) / sorted_scores.sum(dim=-1, keepdim=True)
        adapt = adapt * ratio
    flat = adapt.reshape(-1)
    check_margin(flat, Hkv * base, what + " global")
    top = flat.topk(Hkv * base).indices // n_c
    counts = torch.zeros(Hkv, dtype=torch.int64).scatter_add_(0, top, torch.ones_like(top))
    caps = torch.round(counts * (1 - floor_ratio) + floor_cap).int()   # int64 * float -> float32
    return caps, order


# ---- one method on one layer ----

def select_layer(method, prm, B, layer, L, H, Hkv, n, q, k, head_scores, what):
    """Kept positions per KV head of one layer. q: [H][n][d], k: [H][n][d] (float64)."""
    if method == "fullkv":
        return keep_all(n, Hkv)
    if method == "streamingllm":
        sinks = prm["sinks"]
        if n < B:
            return keep_all(n, Hkv)
        return [sorted(set(range(sinks)) | set(range(n - (B - sinks), n))) for _ in range(Hkv)]
    w = prm["window"]
    base = B - w
    if method == "h2o":
        if n < B:
            return keep_all(n, Hkv)
        s = group_mean(accum_attn(q, k), Hkv, w)
        return top_plus_window(s, [base] * Hkv, n, w, what)
    kernel = prm["kernel"]
    if method == "pyramidkv":
        if prm["freeze_first"]:
            cap = pyramid_cap(base, prm["beta"], L, layer, n, w)   # the first (only) prompt freezes it
            if n < cap + w:
                return keep_all(n, Hkv)
        else:
            if n < B:
                return keep_all(n, Hkv)
            cap = base if n < 2 * base else pyramid_cap(base, prm["beta"], L, layer, n, w)
        p = pooled_scores(window_attn(q, k, w), Hkv, w, kernel)
        return top_plus_window(p, [cap] * Hkv, n, w, what)
    if n < B:
        return keep_all(n, Hkv)
    p = pooled_scores(window_attn(q, k, w), Hkv, w, kernel)
    if method == "snapkv":
        return top_plus_window(p, [base] * Hkv, n, w, what)
    if method == "adakv":
        if layer < prm["skip"]:
            return top_plus_window(p, [base] * Hkv, n, w, what)
        caps, _ = adakv_caps(p, base, prm["floor"], prm["normalize"], what)
        return top_plus_window(p, caps.tolist(), n, w, what)
    if method in ("sparsemm", "random"):
        scores = head_scores if method == "sparsemm" else splitmix64_uniforms(prm["seed"], L * H)
        caps = sparsemm_caps(scores, L, H, Hkv, base, prm["ratio"], what)
        return top_plus_window(p, caps[layer].tolist(), n, w, what)
    raise ValueError(method)


def mask_heads(head_scores, L, H, ratio):
    """[L][H] 0/1: the top int(ratio*L*H) heads by score (stable sort: ties keep key order)."""
    keys = [(f"{l}-{h}", head_scores[l * H + h]) for l in range(L) for h in range(H)]
    ranked = sorted(keys, key=lambda x: x[1], reverse=True)
    num = int(ratio * len(ranked))
    m = [[0] * H for _ in range(L)]
    for key, _ in ranked[:num]:
        l, h = (int(x) for x in key.split("-"))
        m[l][h] = 1
    return m


def bitmap(kept, n):
    """Kept positions as hex: character c holds positions 4c..4c+3, lowest position in bit 0."""
    bits = [0] * ((n + 3) // 4)
    for t in kept:
        bits[t // 4] |= 1 << (t % 4)
    return "".join("0123456789abcdef"[b] for b in bits)


def parse_params(method, settings):
    prm = dict(DEFAULTS[method])
    for s in settings:
        key, val = s.split("=")
        prm[key] = float(val) if "." in val else int(val)
    return prm


def generate(case):
    L, H, Hkv, n, d = case["layers"], case["heads"], case["kv_heads"], case["n"], case["head_dim"]
    g = torch.Generator().manual_seed(case["seed"])
    # fp32 storage, engine layout [n][heads*d]; a scale above 1 makes attention peaked.
    q32 = (torch.randn(L, n, H * d, generator=g) * 2.0).float()
    k32 = (torch.randn(L, n, Hkv * d, generator=g) * 2.0).float()
    rng = np.random.default_rng(case["seed"])
    head_scores = rng.random(L * H) * (rng.random(L * H) < 0.7)   # some heads score 0, as in real files
    head_scores = [float(x) for x in head_scores]

    def qk(layer):
        q = q32[layer].double().view(n, H, d).transpose(0, 1).contiguous()
        k = k32[layer].double().view(n, Hkv, d).transpose(0, 1).contiguous()
        return q, repeat_kv(k, H // Hkv)

    runs = []

    def add_run(method, B, settings):
        prm = parse_params(method, settings)
        kept = []
        for layer in range(L):
            q, k = qk(layer)
            what = f"{case['name']} {method} B={B} {settings} layer {layer}"
            sel = select_layer(method, prm, B, layer, L, H, Hkv, n, q, k, head_scores, what)
            kept.append([bitmap(s, n) for s in sel])
        runs.append(dict(case=case["name"], method=method, budget=B, params=settings, kept=kept))

    add_run("fullkv", 0, [])
    for B in case["budgets"]:
        for method, settings in PER_BUDGET:
            add_run(method, B, settings)
    for method, settings in VARIANTS:
        add_run(method, case["budgets"][2], settings)
    for ratio in (0.1, 0.25):
        runs.append(dict(case=case["name"], method="mask", budget=0, params=[f"ratio={ratio}"],
                         kept=[[bitmap(range(n), n)] * Hkv for _ in range(L)],
                         query_mask=mask_heads(head_scores, L, H, ratio)))

    wa = torch.zeros(L, H, n, dtype=DT)
    acc = torch.zeros(L, H, n, dtype=DT)
    for layer in range(L):
        q, k = qk(layer)
        wa[layer] = window_attn(q, k, W)
        acc[layer] = accum_attn(q, k)
    path = os.path.join(OUT, f"ref_{case['name']}.bin")
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<7i", VERSION, L, H, Hkv, n, d, W))
        for t in (q32, k32, wa.float(), acc.float()):
            f.write(t.contiguous().numpy().astype("<f4").tobytes())
    meta = {key: case[key] for key in ("name", "layers", "heads", "kv_heads", "n", "head_dim")}
    meta["file"] = f"ref_{case['name']}.bin"
    meta["head_scores"] = head_scores
    return meta, runs


def main():
    if not os.path.isdir(OUT):
        sys.exit(f"run from the repository root ({OUT} not found)")
    torch.set_num_threads(1)
    cases, runs = [], []
    for case in CASES:
        try:
            meta, r = generate(case)
        except CloseCall as e:
            sys.exit(f"case {case['name']} seed {case['seed']}: {e}; pick another seed")
        cases.append(meta)
        runs.extend(r)
    doc = dict(magic="sparsemm-ref-methods", version=VERSION,
               regenerate="python3 tools/ref_methods/ref_methods.py",
               bitmap="hex, character c holds positions 4c..4c+3, lowest position in bit 0",
               cases=cases, runs=runs)
    with open(os.path.join(OUT, "ref_methods.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases, {len(runs)} runs written to {OUT}")


if __name__ == "__main__":
    main()
