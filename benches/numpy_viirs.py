#!/usr/bin/env python3
# numpy_viirs.py: the baseline for strawfire's benchmark claim ("well over 10x faster than a
# straightforward numpy/scipy implementation of the same algorithm").
#
# The VIIRS 375 m active-fire algorithm (Schroeder et al. 2014; /work/shared/ALGORITHMS.md,
# "VIIRS 375 m I-band") written as a competent scientist would write it first: vectorised numpy
# for the per-pixel masks, a Python loop over candidate pixels with numpy slices for the contextual
# windows, np.median over the 501x501 slice for the median-band pixels. It mirrors the semantics of
# src/detect/ (pixel.rs, context.rs, reference.rs, finish.rs); every threshold is read from
# models/viirs-i.toml. Not micro-optimised, not deliberately slow. Differences from the Rust engine:
# FRP uses the nominal pixel area (nominal_pixel_m squared) instead of the real one.
#
# Run with the Debian interpreter (python3-gdal python3-numpy python3-scipy):
#     /usr/bin/python3 benches/numpy_viirs.py SCENE.tif [-o fires.csv] [--model models/viirs-i.toml]
# SCENE is a GeoTIFF whose bands are described I1 I2 I3 I4 I5 SZA (optionally VZA SAA VAA).
# Prints one JSON line on stderr: {"read_s": reading the bands, "detect_s": everything after
# (all of the algorithm, confidence and FRP; not the CSV writing), "fires": N}. With -o, writes the
# fire pixels as CSV: row,col,confidence,frp (confidence l/n/h, FRP in MW).

import argparse
import csv
import json
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "viirs-i.toml"

# Radiation constants (same as src/physics.rs).
C1 = 1.191042e8  # 2hc^2, W m-2 sr-1 um4
C2 = 1.4387752e4  # hc/k, um K
SIGMA = 5.670374e-8  # W m-2 K-4

# Fire-mask classes (VNP14IMG).
NOT_PROCESSED, FILL, GLINT, WATER, CLOUD, LAND, UNKNOWN, FIRE_LOW, FIRE_NOMINAL, FIRE_HIGH = range(10)


def f32(section):
    """A model table with its numbers as float32, as the Rust model holds them."""
    return {k: np.float32(v) if isinstance(v, float) else v for k, v in section.items()}


def read_scene(path, model):
    """Bands by description (case-insensitive), float32, nodata -> NaN, scale/offset applied."""
    from osgeo import gdal  # here, so that numpy_viirs_l1b.py can import detect() without GDAL

    gdal.UseExceptions()
    ds = gdal.Open(str(path))
    by_desc = {}
    for i in range(1, ds.RasterCount + 1):
        by_desc.setdefault(ds.GetRasterBand(i).GetDescription().strip().upper(), i)
    bands = {}
    for name, spec in model["bands"].items():
        idx = by_desc.get(spec["description"].upper())
        if idx is None:
            if spec["required"]:
                sys.exit(f"{path}: no band described {spec['description']}")
            continue
        b = ds.GetRasterBand(idx)
        a = b.ReadAsArray().astype(np.float32)
        nodata = b.GetNoDataValue()
        if nodata is not None:
            a[a == np.float32(nodata)] = np.nan
        scale, offset = b.GetScale() or 1.0, b.GetOffset() or 0.0
        if scale != 1.0 or offset != 0.0:
            a = a * np.float32(scale) + np.float32(offset)
        bands[name] = a
    return bands


def planck(wl_um, t_k):
    t_k = np.asarray(t_k, dtype=np.float64)
    return C1 / (wl_um**5 * np.expm1(C2 / (wl_um * t_k)))


def mean_mad(v):
    """Mean and mean absolute deviation (float64 accumulation, float32 result); NaN when empty."""
    if v.size == 0:
        return np.float32(np.nan), np.float32(np.nan)
    x = v.astype(np.float64)
    m = x.mean()
    return np.float32(m), np.float32(np.abs(x - m).mean())


def detect(b, model):
    cl, fx, bf, bt, ca = (f32(model[k]) for k in ("cloud", "fixed", "background_fire", "bright_target", "candidate"))
    cx, de, gl, co = (f32(model[k]) for k in ("context", "desert", "glint", "confidence"))
    i4spec = model["bands"]["I4"]
    sat = np.float32(i4spec.get("saturation_k", np.finfo(np.float32).max))
    fold = np.float32(i4spec.get("fold_k", np.nan))

    r1, r2, r3, bt4, bt5, sza = (b[k] for k in ("I1", "I2", "I3", "I4", "I5", "SZA"))
    rows, cols = bt4.shape
    np.seterr(invalid="ignore")

    # --- Per-pixel stage -------------------------------------------------------------------
    notproc = np.isnan(sza)
    day = sza < np.float32(model["night_sza_deg"])  # NaN SZA -> False
    fill = ~notproc & (np.isnan(bt4) | np.isnan(bt5) | (day & (np.isnan(r1) | np.isnan(r2) | np.isnan(r3))))
    ok = ~notproc & ~fill
    dt = bt4 - bt5
    vis = r1 + r2

    saturated = bt4 >= sat
    fixed_day = (saturated & (bt5 > fx["day_saturated_bt5_k"]) & (vis < fx["day_saturated_refl"])) | (
        (dt < 0) & (bt5 > fx["day_fold_bt5_k"])
    )
    fixed_night = (
        (bt4 > fx["night_bt4_k"])
        | saturated
        | ((dt < 0) & (bt5 > fx["night_fold_bt5_k"]))
        | ((bt4 == fold) & (bt5 > fx["night_fold_value_bt5_k"]))
    )
    fixed = ok & np.where(day, fixed_day, fixed_night)

    cloud_day = (
        (bt5 < cl["day_bt5_k"])
        | ((vis > cl["day_bright_refl"]) & (bt5 < cl["day_bright_bt5_k"]))
        | ((vis > cl["day_moderate_refl"]) & (bt5 < cl["day_moderate_bt5_k"]))
    )
    cloud_night = (bt5 < cl["night_bt5_k"]) & (bt4 < cl["night_bt4_k"])
    cloud = ok & ~fixed & np.where(day, cloud_day, cloud_night)
    # Water: by the product's land/water mask, day and night, when the scene has one (an L1B
    # pair's VNP03IMG land_water_mask; src/detect/pixel.rs classify), else by reflectances by day.
    if "WATER" in b:
        water = ok & ~fixed & ~cloud & b["WATER"]
    else:
        water = ok & ~fixed & ~cloud & day & (r1 > r2) & (r2 > r3)
    land = ok & ~fixed & ~cloud & ~water

    bg_fire = land & np.where(
        day,
        (bt4 > bf["day_bt4_k"]) & (dt > bf["day_dt45_k"]),
        (bt4 > bf["night_bt4_k"]) & (dt > bf["night_dt45_k"]),
    )
    valid = land & ~bg_fire

    bright = day & (
        (vis > bt["refl_sum"])
        & (bt5 < bt["bt5_k"])
        & (r3 > bt["rho3_min"])
        & (r3 > r2)
        & (r2 > bt["rho2_min"])
        & (bt4 <= bt["bt4_max_k"])
    )
    cand_day = (dt > ca["day_dt45_k"]) | (bt4 > ca["day_bt4s_max_k"])
    cand_night = (bt4 > ca["night_bt4_k"]) | (dt > ca["night_dt45_k"])
    testable = land & ~bright
    candidate = fixed | (testable & np.where(day, cand_day, cand_night))
    needs_median = testable & day & ~cand_day & (bt4 > ca["day_bt4s_min_k"])

    # --- 501x501 background median for day pixels with 325 < BT4 <= 330 ----------------------
    half = model["candidate"]["median_window"] // 2
    for r, c in np.argwhere(needs_median):
        sl = (slice(max(r - half, 0), r + half + 1), slice(max(c - half, 0), c + half + 1))
        values = bt4[sl][valid[sl]]
        if values.size == 0:
            bt4s = ca["day_bt4s_min_k"]
        else:
            bt4s = min(max(np.float32(np.median(values)), ca["day_bt4s_min_k"]), ca["day_bt4s_max_k"])
        if bt4[r, c] > bt4s:
            candidate[r, c] = True

    # --- Sun glint angle (Giglio 2003 eq. 4), when the geometry bands exist -----------------
    if all(k in b for k in ("VZA", "SAA", "VAA")):
        ts, tv = np.radians(sza), np.radians(b["VZA"])
        cosg = np.cos(tv) * np.cos(ts) - np.sin(tv) * np.sin(ts) * np.cos(np.radians(b["SAA"] - b["VAA"]))
        glint = np.degrees(np.arccos(np.clip(cosg, -1.0, 1.0)))
    else:
        glint = np.full(bt4.shape, np.nan, dtype=np.float32)

    # --- Contextual tests around each candidate ---------------------------------------------
    mask = np.full(bt4.shape, LAND, dtype=np.uint8)
    mask[notproc] = NOT_PROCESSED
    mask[fill] = FILL
    mask[cloud] = CLOUD
    mask[water] = WATER
    core = model["context"]["core_exclusion"] // 2
    wmin, wmax = model["context"]["window_min"], model["context"]["window_max"]
    outcomes = []  # (row, col, class, background mean BT4)
    for r, c in np.argwhere(candidate):
        bg = None
        for side in range(wmin, wmax + 1, 2):
            h = side // 2
            r0, c0 = max(r - h, 0), max(c - h, 0)
            sl = (slice(r0, r + h + 1), slice(c0, c + h + 1))
            keep = np.ones(bt4[sl].shape, dtype=bool)
            keep[max(r - core, 0) - r0 : r + core + 1 - r0, max(c - core, 0) - c0 : c + core + 1 - c0] = False
            v = keep & valid[sl]
            n_valid, total = int(v.sum()), int(keep.sum())
            if n_valid >= cx["min_valid_count"] or (total > 0 and np.float32(n_valid) >= cx["min_valid_fraction"] * np.float32(total)):
                w4, w5 = bt4[sl][v], bt5[sl][v]
                fire4 = bt4[sl][keep & bg_fire[sl]]
                mean4, mad4 = mean_mad(w4)
                mean5, mad5 = mean_mad(w5)
                mean_dt, mad_dt = mean_mad(w4 - w5)
                mean4f, mad4f = mean_mad(fire4)
                bg = (n_valid, fire4.size, mean4, mad4, mean5, mad5, mean_dt, mad_dt, mean4f, mad4f)
                break
        p4, p5, pdt, isday = bt4[r, c], bt5[r, c], dt[r, c], bool(day[r, c])
        if fixed[r, c]:
            cls = FIRE_HIGH
        elif bg is None:
            cls = UNKNOWN
        else:
            n_valid, n_fire, mean4, mad4, mean5, mad5, mean_dt, mad_dt, mean4f, mad4f = bg
            if isday:
                fire = (
                    pdt > mean_dt + cx["day_dt_mad"] * mad_dt
                    and pdt > mean_dt + cx["day_dt_offset_k"]
                    and p4 > mean4 + cx["day_bt4_mad"] * mad4
                    and (p5 > mean5 + mad5 - cx["day_bt5_offset_k"] or mad4f > cx["day_bg_fire_mad_k"])
                )
            else:
                fire = (
                    pdt > mean_dt + cx["night_dt_mad"] * mad_dt
                    and pdt > mean_dt + cx["night_dt_offset_k"]
                    and p4 > mean4 + cx["night_bt4_mad"] * mad4
                )
            cls = FIRE_NOMINAL if fire else LAND
            if fire and isday:
                desert = (
                    np.float32(n_fire) > de["min_fraction"] * np.float32(n_valid)
                    and n_fire > de["min_count"]
                    and r2[r, c] > de["rho2_min"]
                    and mean4f < de["bt4_bg_k"]
                    and mad4f < de["mad_k"]
                    and p4 < mean4f + de["bt4_mad"] * mad4f
                )
                g = glint[r, c]
                if desert:
                    cls = LAND
                elif not np.isnan(g) and (
                    (g < gl["strong_deg"] and vis[r, c] > gl["strong_refl"])
                    or (g < gl["weak_deg"] and vis[r, c] > gl["weak_refl"])
                ):
                    cls = GLINT
        outcomes.append((r, c, cls, bg[2] if bg is not None else np.float32(np.nan)))
    for r, c, cls, _ in outcomes:
        mask[r, c] = cls

    # --- Confidence and FRP -------------------------------------------------------------------
    wl = model["bands"][model["frp"]["band"]].get("wavelength_um", 3.74)
    area = model["nominal_pixel_m"] ** 2
    coef = model["frp"]["coefficient"]
    fires = []
    for r, c, cls, mean4 in outcomes:
        if cls < FIRE_LOW:
            continue
        if cls == FIRE_HIGH:
            conf = "h"
        else:
            sl = (slice(max(r - 1, 0), r + 2), slice(max(c - 1, 0), c + 2))
            self_ = np.zeros(mask[sl].shape, dtype=bool)
            self_[r - max(r - 1, 0), c - max(c - 1, 0)] = True
            adjacent_fire = bool((mask[sl][~self_] >= FIRE_LOW).any())
            neigh = bt4[sl][~self_ & ok[sl]]
            small = neigh.size == 0 or bt4[r, c] - neigh.max() < co["low_neighbour_k"]
            weak = dt[r, c] < co["low_dt45_k"] or glint[r, c] < co["low_glint_deg"]
            conf = "l" if (day[r, c] and weak and not adjacent_fire and small) else "n"
            mask[r, c] = FIRE_LOW if conf == "l" else FIRE_NOMINAL
        bg_k = bt5[r, c] if np.isnan(mean4) else mean4
        frp = area * SIGMA / coef * (planck(wl, bt4[r, c]) - planck(wl, bg_k)) / 1e6
        fires.append((int(r), int(c), conf, max(float(frp), 0.0)))
    return fires, mask


def main():
    ap = argparse.ArgumentParser(description="numpy/scipy baseline of the VIIRS 375 m active-fire algorithm")
    ap.add_argument("scene")
    ap.add_argument("-o", "--output", help="write row,col,confidence,frp CSV here")
    ap.add_argument("--model", default=str(DEFAULT_MODEL), help="sensor model TOML (default: models/viirs-i.toml)")
    args = ap.parse_args()
    with open(args.model, "rb") as f:
        model = tomllib.load(f)

    t0 = time.perf_counter()
    bands = read_scene(args.scene, model)
    t1 = time.perf_counter()
    fires, _mask = detect(bands, model)
    t2 = time.perf_counter()

    if args.output:
        with open(args.output, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["row", "col", "confidence", "frp"])
            for r, c, conf, frp in fires:
                w.writerow([r, c, conf, f"{frp:.2f}"])
    print(json.dumps({"read_s": round(t1 - t0, 4), "detect_s": round(t2 - t1, 4), "fires": len(fires)}), file=sys.stderr)


if __name__ == "__main__":
    main()
