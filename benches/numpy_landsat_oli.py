#!/usr/bin/env python3
# numpy_landsat_oli.py: the numpy baseline of `strawfire scan` on a Landsat 8/9 Collection 2
# Level-1 product (issue 18): the OLI active-fire algorithm of Schroeder et al. 2016 (the team's
# ALGORITHMS.md, "Landsat-8/9 OLI 30 m"; every threshold read from models/landsat-oli.toml) on
# the same product folder benches/landsat.rs scans, written as a competent scientist would write
# it first: the GeoTIFFs read with tifffile (imagecodecs for DEFLATE when installed), the DN ->
# TOA reflectance conversion and every per-pixel test as whole-array numpy expressions, a Python
# loop over the candidate pixels with numpy slices for their 61 x 61 windows. It mirrors
# src/product/landsat_c2l1.rs (reading) and src/detect/oli/ (pixel.rs, context.rs, finish.rs):
# - rho = (M * DN + A) / sin(sun elevation) (no division at night), computed in float64 and
#   stored as float32 as the Rust reader does; DN 0 -> NaN; a QA_RADSAT-flagged pixel -> the
#   band's largest encodable reflectance;
# - QA_PIXEL: cloud = bits 1-3, water = bit 7, neither on fill (bit 0);
# - day: fill, unambiguous (ratio and saturation tests), water (QA or spectral), cloud, land;
#   candidates confirmed against their window's background mean and population standard
#   deviation (float64), the candidate itself left out; night: band 7 alone;
# - confidence: unambiguous high, contextual nominal or low next to cloud/water, night nominal.
# Not micro-optimised, not deliberately slow.
#
# Setup (PyPI, the bench's own environment; no test depends on it; benches/landsat.rs creates it
# when it is missing and `--python` is given):
#     python3 -m venv target/bench-venv && target/bench-venv/bin/pip install numpy tifffile imagecodecs
# Run:
#     target/bench-venv/bin/python benches/numpy_landsat_oli.py PRODUCT_FOLDER [-o fires.csv]
# Prints one JSON line on stderr: read_s (reading and converting the bands), detect_s (the
# algorithm), read_cpu_s, detect_cpu_s (this process's CPU time), rows, cols, candidates, fires.
# With -o, writes the fire pixels as CSV: row,col,confidence (l/n/h).

import argparse
import csv
import json
import math
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import tifffile

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "landsat-oli.toml"

# Fire-mask classes (as src/detect/types.rs, the VNP14IMG classes).
FILL, WATER, CLOUD, LAND, UNKNOWN, FIRE_LOW, FIRE_NOMINAL, FIRE_HIGH = 1, 3, 4, 5, 6, 7, 8, 9

QA_FILL, QA_DILATED, QA_CIRRUS, QA_CLOUD, QA_WATER = 1, 2, 4, 8, 128


def mtl_keys(folder):
    """KEY -> value of the product's _MTL.txt (ODL; quotes removed)."""
    mtl = next(folder.glob("*_MTL.txt"))
    keys = {}
    for line in mtl.read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            k = k.strip()
            if k not in ("GROUP", "END_GROUP"):
                keys[k] = v.strip().strip('"')
    return keys


def read_product(folder):
    keys = mtl_keys(folder)
    sun = float(keys["SUN_ELEVATION"])
    day = sun > 0.0
    sin_e = math.sin(math.radians(sun)) if day else 1.0
    radsat_name = keys.get("FILE_NAME_QUALITY_L1_RADIOMETRIC_SATURATION")
    radsat = None
    if radsat_name and (folder / radsat_name).exists():
        radsat = tifffile.imread(folder / radsat_name)
    rho = []
    for n in range(1, 8):
        dn = tifffile.imread(folder / keys[f"FILE_NAME_BAND_{n}"])
        m = float(keys[f"REFLECTANCE_MULT_BAND_{n}"])
        a = float(keys[f"REFLECTANCE_ADD_BAND_{n}"])
        r = ((m * dn.astype(np.float64) + a) / sin_e).astype(np.float32)
        r[dn == 0] = np.nan
        if radsat is not None:
            top = np.float32((m * 65535.0 + a) / sin_e)
            r[((radsat & (1 << (n - 1))) != 0) & (dn != 0)] = top
        rho.append(r)
    cloud = water = None
    qa_name = keys.get("FILE_NAME_QUALITY_L1_PIXEL")
    if qa_name and (folder / qa_name).exists():
        qa = tifffile.imread(folder / qa_name)
        valid = (qa & QA_FILL) == 0
        cloud = valid & ((qa & (QA_DILATED | QA_CIRRUS | QA_CLOUD)) != 0)
        water = valid & ((qa & QA_WATER) != 0)
    return rho, cloud, water, day


def f32(section):
    return {k: np.float32(v) if isinstance(v, float) else v for k, v in section.items()}


def ratio(a, b):
    """a / b, defined where b <= 0: +inf when a > 0, else 0 (as pixel.rs)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = a / b
    return np.where(b > 0, q, np.where(a > 0, np.float32(np.inf), np.float32(0))).astype(np.float32)


def detect(rho, cloud, water, day, model):
    u, cand, ctx = f32(model["unambiguous"]), f32(model["candidate"]), model["context"]
    wat, night = f32(model["water"]), f32(model["night"])
    r1, r2, r3, r4, r5, r6, r7 = rho
    shape = r7.shape
    qc = cloud if cloud is not None else np.zeros(shape, bool)
    qw = (water if water is not None else np.zeros(shape, bool)) & bool(wat["use_qa"])
    mask = np.full(shape, LAND, np.uint8)
    fires = []  # (row, col, test)
    if day:
        fill = np.zeros(shape, bool)
        for r in rho:
            fill |= np.isnan(r)
        r75, r76 = ratio(r7, r5), ratio(r7, r6)
        d75 = r7 - r5
        unamb = ((r75 > u["ratio_75"]) & (d75 > u["diff_75"]) & (r7 > u["rho7_min"])) | (
            (r6 > u["rho6_min"]) & (r1 < u["rho1_max"]) & ((r5 > u["rho5_min"]) | (r7 < u["rho7_folded_max"]))
        )
        unamb &= ~fill
        spectral_water = (
            (r4 > r5) & (r5 > r6) & (r6 > r7) & (r1 - r7 < wat["rho1_minus_rho7_max"])
            & ((r3 > r2) | ((r1 > r2) & (r2 > r3) & (r3 > r4)))
        )
        mask[qc] = CLOUD
        mask[qw | spectral_water] = WATER
        mask[unamb] = FIRE_HIGH
        mask[fill] = FILL
        candidate = (r75 > cand["ratio_75"]) & (d75 > cand["diff_75"]) & (r76 > cand["ratio_76"])
        candidate &= ~fill & ~unamb
        fires += [(int(r), int(c), "stage1") for r, c in zip(*np.nonzero(unamb))]
        # The contextual test, one candidate at a time.
        stage1 = mask.copy()
        background = (stage1 == LAND) if ctx["exclude_cloud"] else ((stage1 == LAND) | (stage1 == CLOUD))
        background &= (r7 > np.float32(ctx["background_rho7_min"])) & (r5 > 0)
        h = ctx["window"] // 2
        cand_rc = np.argwhere(candidate)
        for r, c in cand_rc:
            r0, r1w, c0, c1w = max(r - h, 0), min(r + h + 1, shape[0]), max(c - h, 0), min(c + h + 1, shape[1])
            bg = background[r0:r1w, c0:c1w].copy()
            bg[r - r0, c - c0] = False
            n = int(bg.sum())
            if n < ctx["min_valid"]:
                mask[r, c] = UNKNOWN
                continue
            v75 = r75[r0:r1w, c0:c1w][bg].astype(np.float64)
            v7 = r7[r0:r1w, c0:c1w][bg].astype(np.float64)
            m75, m7 = v75.sum() / n, v7.sum() / n
            s75 = math.sqrt(max((v75 * v75).sum() / n - m75 * m75, 0.0))
            s7 = math.sqrt(max((v7 * v7).sum() / n - m7 * m7, 0.0))
            fire = float(r75[r, c]) > m75 + max(ctx["ratio_sigmas"] * s75, ctx["ratio_min_excess"]) and float(
                r7[r, c]
            ) > m7 + max(ctx["rho7_sigmas"] * s7, ctx["rho7_min_excess"])
            if fire:
                mask[r, c] = FIRE_NOMINAL
                fires.append((int(r), int(c), "contextual"))
        candidates = len(cand_rc)
    else:
        fill = np.isnan(r7)
        hot = ~fill & (r7 > night["rho7_min"])
        mask[qc] = CLOUD
        mask[qw] = WATER
        mask[hot] = FIRE_NOMINAL
        mask[fill] = FILL
        fires += [(int(r), int(c), "night") for r, c in zip(*np.nonzero(hot))]
        candidates = 0
    # Confidence.
    fires.sort()
    out = []
    low_rule = model["confidence"]["low_next_to_cloud_or_water"]
    for r, c, test in fires:
        if test == "stage1":
            conf = "h"
        elif test == "night":
            conf = "n"
        else:
            near = mask[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]
            if low_rule and ((near == CLOUD) | (near == WATER)).any():
                mask[r, c] = FIRE_LOW
                conf = "l"
            else:
                conf = "n"
        out.append((r, c, conf))
    return out, candidates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("product", type=Path)
    ap.add_argument("-o", type=Path)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = ap.parse_args()
    model = tomllib.loads(args.model.read_text())
    t0, c0 = time.perf_counter(), time.process_time()
    rho, cloud, water, day = read_product(args.product)
    t1, c1 = time.perf_counter(), time.process_time()
    fires, candidates = detect(rho, cloud, water, day, model)
    t2, c2 = time.perf_counter(), time.process_time()
    if args.o:
        with open(args.o, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["row", "col", "confidence"])
            w.writerows(fires)
    print(
        json.dumps(
            {
                "read_s": t1 - t0,
                "detect_s": t2 - t1,
                "read_cpu_s": c1 - c0,
                "detect_cpu_s": c2 - c1,
                "rows": rho[6].shape[0],
                "cols": rho[6].shape[1],
                "candidates": candidates,
                "fires": len(fires),
            }
        ),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
