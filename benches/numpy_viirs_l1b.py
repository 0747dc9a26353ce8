#!/usr/bin/env python3
# numpy_viirs_l1b.py: the numpy baseline of `strawfire scan` on a NASA VIIRS L1B pair (issue 14):
# the same algorithm as numpy_viirs.py (its detect(), imported), on the same VNP02IMG + VNP03IMG
# files the Rust benchmark (benches/product.rs) scans, read with h5py and converted by the
# products' own rules as src/product/viirs_l1b.rs converts them:
# - I1-I3: count * scale_factor + add_offset; counts outside valid_min..valid_max NaN; quality flag
#   bit 4 (saturated) at the band's maximum; counts >= 65528 NaN unless saturated and not
#   bow-tie deleted (65533) or fill (65535);
# - I4/I5: the brightness-temperature LUT at the raw count (LUT masked by its valid range and
#   fill), saturated pixels at the LUT's maximum, counts >= 65528 NaN;
# - angles int16 * scale_factor, fill NaN; latitude/longitude fill and out of range NaN;
# - water from land_water_mask classes 0, 3, 5, 6, 7 (day and night).
#
# Setup (PyPI, not Debian: the bench's own environment; no test depends on it):
#     python3 -m venv target/bench-venv && target/bench-venv/bin/pip install numpy h5py
# Run:
#     target/bench-venv/bin/python benches/numpy_viirs_l1b.py VNP02IMG...nc VNP03IMG...nc \
#         [--detect-rows A:B] [--model models/viirs-i.toml]
# The whole granule is read and converted (timed: read_s); the algorithm then runs on rows A..B
# of it (all rows by default; timed: detect_s), because by day the Python loop over candidate
# pixels takes hours on a full granule. Prints one JSON line on stderr: read_s, detect_s (wall),
# read_cpu_s, detect_cpu_s (this process's CPU time: on a shared machine the fairer figure), rows
# (of the read), detect_rows, cols, fires.

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from numpy_viirs import DEFAULT_MODEL, detect  # noqa: E402

FIRST_FLAG = 65528
BOWTIE = 65533
FILL = 65535
SATURATION_BIT = 4
WATER_CLASSES = [0, 3, 5, 6, 7]


def attr(v, name, default=None):
    """A numeric attribute of a netCDF variable as float (h5py gives 1-element arrays)."""
    if name not in v.attrs:
        return default
    return float(np.ravel(v.attrs[name])[0])


def read_pair(data, geo):
    b = {}
    with h5py.File(data, "r") as d, h5py.File(geo, "r") as g:
        ob = d["observation_data"]
        for var, band in (("I01", "I1"), ("I02", "I2"), ("I03", "I3"), ("I04", "I4"), ("I05", "I5")):
            v = ob[var]
            c = v[...]
            qname = var + "_quality_flags"
            sat = (ob[qname][...] & SATURATION_BIT) != 0 if qname in ob else np.zeros(c.shape, bool)
            keep_sat = sat & (c != BOWTIE) & (c != FILL)
            if band in ("I4", "I5"):
                lv = ob[var + "_brightness_temperature_lut"]
                lut = lv[...].astype(np.float32)
                lo, hi = attr(lv, "valid_min", -np.inf), attr(lv, "valid_max", np.inf)
                fill = np.float32(attr(lv, "_FillValue", -999.9))
                lut[(lut == fill) | (lut < lo) | (lut > hi) | (lut <= 0)] = np.nan
                max_k = np.float32(np.nanmax(lut))
                out = lut[c]
                out[c >= FIRST_FLAG] = np.nan
                out[keep_sat] = max_k
            else:
                scale = np.float32(attr(v, "scale_factor"))
                offset = np.float32(attr(v, "add_offset", 0.0))
                lo = attr(v, "valid_min", 0.0)
                hi = attr(v, "valid_max", FIRST_FLAG - 1)
                max_r = np.float32(min(hi, FIRST_FLAG - 1)) * scale + offset
                out = c.astype(np.float32) * scale + offset
                out[(c < lo) | (c > hi)] = np.nan
                out[sat] = max_r
                out[(c >= FIRST_FLAG) & ~keep_sat] = np.nan
            b[band] = out
        gd = g["geolocation_data"]
        for var, band in (("solar_zenith", "SZA"), ("sensor_zenith", "VZA"), ("solar_azimuth", "SAA"), ("sensor_azimuth", "VAA")):
            v = gd[var]
            raw = v[...]
            a = raw.astype(np.float32) * np.float32(attr(v, "scale_factor", 1.0)) + np.float32(attr(v, "add_offset", 0.0))
            a[raw == int(attr(v, "_FillValue", -32768))] = np.nan
            b[band] = a
        for var, limit in (("latitude", 90.0), ("longitude", 180.0)):
            v = gd[var]
            a = v[...]
            a[(a == np.float32(attr(v, "_FillValue", -999.9))) | (a < -limit) | (a > limit)] = np.nan
            b[var] = a
        if "land_water_mask" in gd:
            v = gd["land_water_mask"]
            m = v[...]
            b["WATER"] = np.isin(m, WATER_CLASSES) & (m != int(attr(v, "_FillValue", 255)))
    return b


def main():
    ap = argparse.ArgumentParser(description="numpy baseline of the VIIRS 375 m algorithm on an L1B pair")
    ap.add_argument("data", help="VNP02IMG / VJ102IMG / VJ202IMG file")
    ap.add_argument("geo", help="its VNP03IMG / VJ103IMG / VJ203IMG geolocation")
    ap.add_argument("--detect-rows", help="run the algorithm on rows A:B only (default: all)")
    ap.add_argument("--model", default=str(DEFAULT_MODEL), help="sensor model TOML")
    args = ap.parse_args()
    with open(args.model, "rb") as f:
        model = tomllib.load(f)

    c0, t0 = time.process_time(), time.perf_counter()
    b = read_pair(args.data, args.geo)
    c1, t1 = time.process_time(), time.perf_counter()
    rows, cols = b["I4"].shape
    a, z = 0, rows
    if args.detect_rows:
        a, z = (int(x) for x in args.detect_rows.split(":"))
    crop = {k: v[a:z] for k, v in b.items()}
    c2, t2 = time.process_time(), time.perf_counter()
    fires, _mask = detect(crop, model)
    c3, t3 = time.process_time(), time.perf_counter()
    print(
        json.dumps(
            {
                "read_s": round(t1 - t0, 3),
                "detect_s": round(t3 - t2, 3),
                "read_cpu_s": round(c1 - c0, 3),
                "detect_cpu_s": round(c3 - c2, 3),
                "rows": rows,
                "detect_rows": z - a,
                "cols": cols,
                "fires": len(fires),
            }
        ),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
