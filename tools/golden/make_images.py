#!/usr/bin/env python3
"""Golden fixtures for engine/image*.c and engine/preprocess*.c (tests/test_image.c,
tests/test_preprocess.c). The references are independent of our C code: PIL decodes and
resizes, transformers' PIL-backend ("slow") image processors produce pixel_values.

Re-run from the repository root (seeded, no downloads, a few seconds):
    python3 tools/golden/make_images.py
It rewrites tests/fixtures/images/ entirely. Made with Pillow 13.0 and transformers 5.23.

Layout of tests/fixtures/images/:
    src/              the input images (PNG and JPEG in the variants the decoders must handle)
    manifest.json     decode hashes, resize hashes, JPEG-encoder hashes, token-count tables,
                      and the list of processor cases
    proc/<case>/preprocessor_config.json   one processor configuration per case
    proc/<case>/<image>.f32                pixel_values of one image: one JSON header line
                      {"magic": "sparsemm-f32", "version": 1, "shape": [...], "full": bool,
                       "count": n, "stride": s, "fnv1a64": "<hex>", ...} then n little-endian
                      f32 values: the whole array when full, else every s-th value; fnv1a64
                      is always the hash of the whole array's f32 bytes.
Hashes are 64-bit FNV-1a (engine/util.c fnv1a64) of the exact bytes, written as 16 hex digits.
"""
import io
import json
import os
import shutil
import struct
import zlib

import numpy as np
from PIL import Image
import transformers
from transformers.image_processing_utils import select_best_resolution
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
from transformers.models.llava.image_processing_pil_llava import LlavaImageProcessorPil
from transformers.models.llava_next.image_processing_pil_llava_next import LlavaNextImageProcessorPil
from transformers.models.llava_next.processing_llava_next import LlavaNextProcessor
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil, smart_resize

OUT = "tests/fixtures/images"
SRC = os.path.join(OUT, "src")
MAGIC, VERSION = "sparsemm-f32", 1
FULL_LIMIT = 16384  # arrays up to this many floats are stored whole, larger ones subsampled
SAMPLES = 2048      # about this many values kept from a large array


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


# ---------------------------------------------------------------------------------------------
# Test images: gradients (smooth areas), seeded noise (texture), stripes and a disc (sharp edges
# that make the bicubic filter's negative lobes clip at 0 and 255).

def pattern(w, h, seed, noise=8.0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = x * 255.0 / max(w - 1, 1)
    g = y * 255.0 / max(h - 1, 1)
    b = np.where((x + 2 * y) % 24 < 12, 235.0, 15.0)
    img = np.stack([r, g, b], -1) + rng.normal(0.0, noise, (h, w, 3))
    cx, cy, rr = w * 0.62, h * 0.38, min(w, h) * 0.22
    img[(x - cx) ** 2 + (y - cy) ** 2 < rr ** 2] = [250, 5, 10]
    img[: max(1, h // 9), : max(1, w // 7)] = [0, 0, 0]
    img[-max(1, h // 9):, -max(1, w // 7):] = [255, 255, 255]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(row: np.ndarray, depth: int) -> bytes:
    """row: [w * channels] samples -> PNG scanline bytes (big-endian, MSB-first packing)."""
    if depth == 16:
        return row.astype(">u2").tobytes()
    if depth == 8:
        return row.astype(np.uint8).tobytes()
    per = 8 // depth
    out = bytearray()
    for i in range(0, len(row), per):
        byte = 0
        for j in range(per):
            v = int(row[i + j]) if i + j < len(row) else 0
            byte |= v << (8 - depth * (j + 1))
        out.append(byte)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_raw_png(path, samples, depth, color_type, plte=None, trns=None, interlace=False):
    """A PNG written by hand, for the variants PIL cannot save (16-bit RGB, 2-bit gray, Adam7,
    short palettes). samples: [h][w][channels] integer array."""
    h, w = samples.shape[:2]
    flat = samples.reshape(h, w, -1)
    raw = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = flat[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub:
            raw += b"\x00" + pack_row(row.reshape(-1), depth)
    data = b"\x89PNG\r\n\x1a\n"
    data += png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    if plte is not None:
        data += png_chunk(b"PLTE", bytes(np.asarray(plte, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        data += png_chunk(b"tRNS", trns)
    data += png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    data += png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def make_sources():
    """Writes src/ and returns the list of file names."""
    os.makedirs(SRC)
    names = []

    def save(img, name, **kw):
        img.save(os.path.join(SRC, name), **kw)
        names.append(name)

    rgb = pattern(37, 23, 1)
    save(Image.fromarray(rgb), "rgb_37x23.png")
    save(Image.fromarray(rgb), "rgb_37x23.jpg", quality=90)
    rgba = np.dstack([pattern(29, 31, 2), (np.arange(29 * 31) * 7 % 256).reshape(31, 29).astype(np.uint8)])
    save(Image.fromarray(rgba, "RGBA"), "rgba_29x31.png")
    save(Image.fromarray(pattern(17, 13, 3)).convert("L"), "gray_17x13.png")
    la = Image.fromarray(np.dstack([pattern(19, 11, 4)[..., 0], pattern(19, 11, 5)[..., 1]]), "LA")
    save(la, "la_19x11.png")
    pal = Image.fromarray(pattern(23, 19, 6)).quantize(colors=200, method=Image.Quantize.MEDIANCUT)
    save(pal, "palette_23x19.png", transparency=3)
    g16 = (np.arange(13 * 9, dtype=np.uint32).reshape(9, 13) * 577 % 65536).astype(np.uint16)
    g16[0, :6] = [0, 1, 200, 255, 256, 65535]
    save(Image.fromarray(g16), "gray16_13x9.png")
    save(Image.fromarray(pattern(40, 300, 7)), "tall_40x300.png")
    save(Image.fromarray(pattern(300, 40, 8)), "wide_300x40.jpg", quality=85)
    save(Image.fromarray(pattern(5, 7, 9)), "tiny_5x7.jpg", quality=95)
    save(Image.fromarray(pattern(5, 7, 9)), "tiny_5x7.png")
    save(Image.fromarray(pattern(640, 480, 10, noise=5.0)), "photo_640x480.jpg", quality=85)
    save(Image.fromarray(pattern(299, 517, 11, noise=5.0)), "prog_299x517.jpg", quality=80, progressive=True)
    save(Image.fromarray(pattern(101, 77, 12)).convert("L"), "gray_101x77.jpg", quality=90)
    cmyk = Image.fromarray(pattern(33, 21, 13)).convert("CMYK")
    save(cmyk, "cmyk_33x21.jpg", quality=90)
    save(Image.fromarray(pattern(45, 31, 14)), "s444_45x31.jpg", quality=92, subsampling=0)
    save(Image.fromarray(pattern(47, 29, 15)), "s422_47x29.jpg", quality=88, subsampling=1)

    def raw(name, *a, **kw):
        write_raw_png(os.path.join(SRC, name), *a, **kw)
        names.append(name)

    rng = np.random.default_rng(99)
    raw("rgb16_adam7_15x10.png", rng.integers(0, 65536, (10, 15, 3)), 16, 2, interlace=True)
    raw("rgba16_9x7.png", rng.integers(0, 65536, (7, 9, 4)), 16, 6)
    raw("la16_7x6.png", rng.integers(0, 65536, (6, 7, 2)), 16, 4)
    raw("gray1_17x3.png", rng.integers(0, 2, (3, 17, 1)), 1, 0)
    raw("gray2_21x5.png", rng.integers(0, 4, (5, 21, 1)), 2, 0)
    raw("gray4_11x6_adam7.png", rng.integers(0, 16, (6, 11, 1)), 4, 0, interlace=True)
    raw("gray8_trns_9x4.png", rng.integers(0, 256, (4, 9, 1)), 8, 0, trns=struct.pack(">H", 17))
    raw("pal4_13x5.png", rng.integers(0, 16, (5, 13, 1)), 4, 3, plte=rng.integers(0, 256, (16, 3)))
    raw("pal2_short_9x4.png", rng.integers(0, 4, (4, 9, 1)), 2, 3, plte=[[10, 20, 30], [200, 100, 50]])
    return names


def pil_rgb(name):
    """What the decoders must reproduce: Image.open(f).convert("RGB") as a [h][w][3] array."""
    with Image.open(os.path.join(SRC, name)) as im:
        return np.asarray(im.convert("RGB"))


def decode_table(names):
    rows = []
    for name in names:
        a = pil_rgb(name)
        rows.append({"file": name, "w": a.shape[1], "h": a.shape[0], "rgb_fnv1a64": fnv1a64(a.tobytes())})
    return rows


# (source, width, height): down, up, one axis only (one pass skipped), unchanged (plain copy),
# extreme shrinks, and the sizes the processors use.
RESIZES = [
    ("photo_640x480.jpg", 448, 336), ("photo_640x480.jpg", 336, 336), ("photo_640x480.jpg", 7, 5),
    ("photo_640x480.jpg", 1, 1), ("photo_640x480.jpg", 641, 480), ("photo_640x480.jpg", 640, 333),
    ("photo_640x480.jpg", 640, 480), ("photo_640x480.jpg", 1000, 750), ("photo_640x480.jpg", 644, 476),
    ("tiny_5x7.png", 336, 336), ("tiny_5x7.png", 3, 2), ("tiny_5x7.png", 5, 20), ("tiny_5x7.png", 9, 7),
    ("rgb_37x23.png", 50, 10), ("rgb_37x23.png", 12, 40), ("rgb_37x23.png", 37, 1),
    ("prog_299x517.jpg", 336, 580), ("prog_299x517.jpg", 29, 51), ("prog_299x517.jpg", 299, 1000),
    ("tall_40x300.png", 336, 2520), ("tall_40x300.png", 32, 240), ("wide_300x40.jpg", 28, 28),
    ("gray_101x77.jpg", 64, 64), ("cmyk_33x21.jpg", 66, 42), ("tall_40x300.png", 30, 50),
] + [("rgb_37x23.png", w, h) for w in (5, 20, 36, 38, 60) for h in (3, 11, 22, 24, 50)]
# Pillow <= 12 always ran the horizontal pass first; Pillow 13 goes vertical first when the
# height shrinks by more than twice as many pixels as the width. These cases are ones where
# the orders differ; the old order is emulated with two single-axis resizes.
LEGACY_RESIZES = [("photo_640x480.jpg", 644, 476), ("tall_40x300.png", 30, 50), ("rgb_37x23.png", 36, 3)]


def resize_table():
    rows = []
    for name, w, h in RESIZES:
        r = np.asarray(Image.fromarray(pil_rgb(name)).resize((w, h), Image.BICUBIC))
        rows.append({"file": name, "w": w, "h": h, "passes": "pillow", "rgb_fnv1a64": fnv1a64(r.tobytes())})
    for name, w, h in LEGACY_RESIZES:
        src = Image.fromarray(pil_rgb(name))
        r = np.asarray(src.resize((w, src.height), Image.BICUBIC).resize((w, h), Image.BICUBIC))
        assert not np.array_equal(r, np.asarray(src.resize((w, h), Image.BICUBIC))), name
        rows.append({"file": name, "w": w, "h": h, "passes": "horizontal_first", "rgb_fnv1a64": fnv1a64(r.tobytes())})
    return rows


def jpeg_encode_table():
    """PIL's JPEG encoder at default settings: our encoder should emit the same bytes."""
    rows = []
    for name, q in [("rgb_37x23.png", 85), ("photo_640x480.jpg", 85), ("tiny_5x7.png", 75), ("gray_17x13.png", 50)]:
        buf = io.BytesIO()
        Image.fromarray(pil_rgb(name)).save(buf, "JPEG", quality=q)
        data = buf.getvalue()
        dec = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        rows.append({"file": name, "quality": q, "bytes": len(data), "jpeg_fnv1a64": fnv1a64(data),
                     "decoded_fnv1a64": fnv1a64(dec.tobytes())})
    return rows



# ---------------------------------------------------------------------------------------------
# Image processors. The configs follow the hub files (llava-hf/llava-1.5-7b-hf,
# llava-hf/llava-v1.6-vicuna-7b-hf, Qwen/Qwen2-VL-7B-Instruct) with small sizes in most cases so
# the stored arrays stay small; the full-size cases store hashes and a subsample.
# Inputs are PIL's convert("RGB") of the source files: transformers 5 composites transparent
# images onto white in convert_to_rgb, transformers 4 (and PIL's convert) drops alpha; our
# decoder does the latter, so the processors get the RGB image (a no-op for opaque sources).

CLIP_BASE = {
    "do_center_crop": True, "do_convert_rgb": True, "do_normalize": True, "do_rescale": True,
    "do_resize": True, "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "rescale_factor": 0.00392156862745098,
}
PINPOINTS_336 = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]
SMALL = ["rgb_37x23.png", "photo_640x480.jpg", "prog_299x517.jpg", "tall_40x300.png", "wide_300x40.jpg",
         "tiny_5x7.png", "gray_101x77.jpg", "cmyk_33x21.jpg", "rgba_29x31.png"]
BIG = ["photo_640x480.jpg", "prog_299x517.jpg"]

PROCESSOR_CASES = [
    ("clip32", CLIPImageProcessorPil, dict(CLIP_BASE, image_processor_type="CLIPImageProcessor",
     processor_class="LlavaProcessor", size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}), SMALL),
    ("clip_pad_crop", CLIPImageProcessorPil, dict(CLIP_BASE, image_processor_type="CLIPImageProcessor",
     size={"shortest_edge": 24}, crop_size={"height": 31, "width": 21}), ["rgb_37x23.png", "tall_40x300.png", "tiny_5x7.png"]),
    ("clip_hw_nocrop", CLIPImageProcessorPil, dict(CLIP_BASE, image_processor_type="CLIPImageProcessor",
     size={"height": 20, "width": 28}, do_center_crop=False, do_normalize=False), ["rgb_37x23.png", "wide_300x40.jpg"]),
    ("clip336", CLIPImageProcessorPil, dict(CLIP_BASE, image_processor_type="CLIPImageProcessor",
     processor_class="LlavaProcessor", size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336}), BIG),
    ("llava_pad32", LlavaImageProcessorPil, dict(CLIP_BASE, image_processor_type="LlavaImageProcessor", do_pad=True,
     size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
     ["rgb_37x23.png", "photo_640x480.jpg", "tall_40x300.png", "wide_300x40.jpg", "tiny_5x7.png",
      "rgb16_adam7_15x10.png"]),  # 15x10: an odd padding margin
    ("llava_pad336", LlavaImageProcessorPil, dict(CLIP_BASE, image_processor_type="LlavaImageProcessor", do_pad=True,
     size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336}), ["photo_640x480.jpg"]),
    ("llava_next28", LlavaNextImageProcessorPil, dict(CLIP_BASE, image_processor_type="LlavaNextImageProcessor",
     processor_class="LlavaNextProcessor", do_pad=True, size={"shortest_edge": 28},
     crop_size={"height": 28, "width": 28}, image_grid_pinpoints=[[h // 12, w // 12] for h, w in PINPOINTS_336]),
     ["rgb_37x23.png", "photo_640x480.jpg", "prog_299x517.jpg", "tall_40x300.png", "wide_300x40.jpg", "tiny_5x7.png"]),
    ("llava_next336", LlavaNextImageProcessorPil, dict(CLIP_BASE, image_processor_type="LlavaNextImageProcessor",
     processor_class="LlavaNextProcessor", do_pad=True, size={"shortest_edge": 336},
     crop_size={"height": 336, "width": 336}, image_grid_pinpoints=PINPOINTS_336), BIG),
    ("qwen2vl_p2", Qwen2VLImageProcessorPil, dict(CLIP_BASE, image_processor_type="Qwen2VLImageProcessor",
     processor_class="Qwen2VLProcessor", do_center_crop=None, min_pixels=64, max_pixels=1024, patch_size=2,
     merge_size=2, temporal_patch_size=2), SMALL[:7]),
    ("qwen2vl", Qwen2VLImageProcessorPil, dict(CLIP_BASE, image_processor_type="Qwen2VLImageProcessor",
     processor_class="Qwen2VLProcessor", do_center_crop=None, min_pixels=3136, max_pixels=12845056, patch_size=14,
     merge_size=2, temporal_patch_size=2), BIG),
    ("qwen2vl_max", Qwen2VLImageProcessorPil, dict(CLIP_BASE, image_processor_type="Qwen2VLImageProcessor",
     processor_class="Qwen2VLProcessor", do_center_crop=None, min_pixels=3136, max_pixels=28 * 28 * 64,
     patch_size=14, merge_size=2, temporal_patch_size=2), ["photo_640x480.jpg"]),
]


def write_f32(path, arr, extra):
    arr = np.ascontiguousarray(arr, dtype="<f4")
    flat = arr.reshape(-1)
    full = flat.size <= FULL_LIMIT
    stride = 1 if full else max(1, flat.size // SAMPLES)
    kept = flat[::stride]
    header = dict({"magic": MAGIC, "version": VERSION, "shape": list(arr.shape), "full": full,
                   "count": int(kept.size), "stride": stride, "fnv1a64": fnv1a64(arr.tobytes())}, **extra)
    with open(path, "wb") as f:
        f.write(json.dumps(header).encode() + b"\n")
        f.write(kept.tobytes())


def processor_cases():
    rows = []
    for name, cls, config, images in PROCESSOR_CASES:
        cdir = os.path.join(OUT, "proc", name)
        os.makedirs(cdir)
        config = {k: v for k, v in config.items() if v is not None}
        with open(os.path.join(cdir, "preprocessor_config.json"), "w") as f:
            json.dump(config, f, indent=2)
        proc = cls.from_pretrained(cdir)
        for image in images:
            rgb = Image.fromarray(pil_rgb(image))
            out = proc(images=rgb, return_tensors="np")
            pv = out["pixel_values"]
            extra = {}
            if "image_grid_thw" in out:
                extra["grid_thw"] = [int(x) for x in out["image_grid_thw"][0]]
            else:
                pv = pv[0]  # [crops][3][h][w] (LLaVA-NeXT) or [3][h][w] (CLIP)
                if pv.ndim == 3:
                    pv = pv[None]
            base = os.path.splitext(image)[0]
            write_f32(os.path.join(cdir, base + ".f32"), pv, extra)
            rows.append({"case": name, "file": image, "pixels": f"proc/{name}/{base}.f32"})
    return rows


def llava_next_token_table():
    """Token counts from transformers' own LlavaNextProcessor methods (not a reimplementation)."""
    class Fake:
        patch_size = 14
        num_additional_image_tokens = 1
        vision_feature_select_strategy = "default"
        image_processor = type("IP", (), {"image_grid_pinpoints": PINPOINTS_336})()
        _get_unpadded_features = LlavaNextProcessor._get_unpadded_features
    fake = Fake()
    rows = []
    sizes = [(336, 336), (899, 1024), (480, 640), (517, 299), (40, 300), (300, 40), (672, 672), (1, 1),
             (200, 1000), (1000, 200), (224, 224), (2000, 3000), (457, 123), (123, 457), (337, 1009), (700, 701),
             (336, 1007), (1080, 1920), (1920, 1080), (5, 7), (768, 1024), (600, 800)]
    for h, w in sizes:
        bh, bw = select_best_resolution((h, w), PINPOINTS_336)
        n = LlavaNextProcessor._get_number_of_features(fake, h, w, 336, 336) - 1
        cur_rows, newlines = LlavaNextProcessor._get_unpadded_features(fake, h, w, 24, 24, bh // 336, bw // 336)
        rows.append({"h": h, "w": w, "best_h": bh, "best_w": bw, "tokens": n, "rows": newlines,
                     "cols": cur_rows // newlines})
    return rows


def smart_resize_table():
    rows = []
    cases = [(480, 640, 3136, 12845056), (480, 640, 3136, 602112), (42, 70, 3136, 12845056), (70, 42, 10, 10 ** 9),
             (899, 1024, 3136, 602112), (4000, 3000, 3136, 602112), (10, 10, 3136, 12845056), (5, 7, 3136, 1003520),
             (28, 5600, 3136, 12845056), (10, 2001, 3136, 12845056), (10, 2000, 3136, 12845056),
             (1, 1, 3136, 1003520), (299, 517, 3136, 12845056), (1080, 1920, 3136, 50176), (14, 14, 784, 784)]
    for h, w, lo, hi in cases:
        try:
            rh, rw = smart_resize(h, w, 28, lo, hi)
            rows.append({"h": h, "w": w, "min_pixels": lo, "max_pixels": hi, "out_h": rh, "out_w": rw})
        except ValueError:
            rows.append({"h": h, "w": w, "min_pixels": lo, "max_pixels": hi, "error": True})
    return rows


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    names = make_sources()
    manifest = {
        "generator": "tools/golden/make_images.py",
        "pillow": Image.__version__ if hasattr(Image, "__version__") else "",
        "transformers": transformers.__version__,
        "decode": decode_table(names),
        "resize": resize_table(),
        "jpeg_encode": jpeg_encode_table(),
        "processors": processor_cases(),
        "llava_next_tokens": llava_next_token_table(),
        "qwen2vl_smart_resize": smart_resize_table(),
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
