#!/usr/bin/env python3
# numpy_sentinel2_msi.py: the numpy baseline of `strawfire scan` on a Sentinel-2 L1C .SAFE
# folder (issue 18). Sentinel-2 runs the OLI engine (Schroeder et al. 2016) on MSI's matching
# bands (models/sentinel2-msi.toml), so the algorithm is benches/numpy_landsat_oli.py's
# `detect`, imported from it unchanged, with the MSI model's thresholds; what is written here is
# the reading, mirroring src/product/sentinel2_l1c.rs as a competent scientist would with numpy:
# - MTD_MSIL1C.xml: QUANTIFICATION_VALUE, RADIO_ADD_OFFSET per band_id, NODATA/SATURATED,
#   IMAGE_FILE; MTD_TL.xml: the mean sun zenith, the MSK_CLASSI file;
# - each band's JP2 decoded whole by imagecodecs (OpenJPEG, the library GDAL's JP2OpenJPEG
#   driver uses); the 10 m B02-B04 binned 2 x 2 by the rounded mean DN (fill where any DN of
#   the block is NODATA, saturated where any is SATURATED), B01 (60 m) converted and repeated
#   3 x 3; rho = (DN + offset) / quantification in float64 stored as float32, NODATA -> NaN,
#   SATURATED -> the band's largest reflectance;
# - cloud: MSK_CLASSI band 1 (opaque) or 2 (cirrus), 60 m repeated 3 x 3; no water mask (L1C).
# Whole-array numpy expressions throughout; not micro-optimised, not deliberately slow.
#
# Setup: the venv of benches/landsat.rs (numpy, tifffile, imagecodecs from PyPI).
# Run:
#     target/bench-venv/bin/python benches/numpy_sentinel2_msi.py PRODUCT.SAFE [-o fires.csv]
# Prints one JSON line on stderr: read_s, detect_s, read_cpu_s, detect_cpu_s, rows, cols,
# candidates, fires. With -o, writes the fire pixels as CSV: row,col,confidence (l/n/h).

import argparse
import csv
import importlib.util
import json
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import imagecodecs
import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = HERE.parent / "models" / "sentinel2-msi.toml"
BANDS = ["B01", "B02", "B03", "B04", "B8A", "B11", "B12"]
BAND_IDS = {"B01": 0, "B02": 1, "B03": 2, "B04": 3, "B8A": 8, "B11": 11, "B12": 12}
RES = {"B01": 60, "B02": 10, "B03": 10, "B04": 10, "B8A": 20, "B11": 20, "B12": 20}

_spec = importlib.util.spec_from_file_location("numpy_landsat_oli", HERE / "numpy_landsat_oli.py")
oli = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oli)


def local(tag):
    return tag.rsplit("}", 1)[-1]


def find_all(root, name):
    return [e for e in root.iter() if local(e.tag) == name]


def jp2(path):
    return imagecodecs.jpeg2k_decode(path.read_bytes())


def read_product(safe):
    mtd = ET.parse(safe / "MTD_MSIL1C.xml").getroot()
    q = float(find_all(mtd, "QUANTIFICATION_VALUE")[0].text)
    offsets = {int(e.get("band_id")): float(e.text) for e in find_all(mtd, "RADIO_ADD_OFFSET")}
    special = {}
    for sv in find_all(mtd, "Special_Values"):
        kids = {local(k.tag): k.text for k in sv}
        special[kids["SPECIAL_VALUE_TEXT"]] = int(kids["SPECIAL_VALUE_INDEX"])
    nodata, sat = special.get("NODATA", 0), special.get("SATURATED", 65535)
    files = [e.text for e in find_all(mtd, "IMAGE_FILE")]
    tl_path = next((safe / "GRANULE").glob("*/MTD_TL.xml"))
    tl = ET.parse(tl_path).getroot()
    sun = next(e for e in find_all(tl, "Mean_Sun_Angle"))
    zenith = float(next(k.text for k in sun if local(k.tag) == "ZENITH_ANGLE"))
    rho = []
    for name in BANDS:
        rel = next(f for f in files if f.endswith("_" + name))
        dn = jp2(safe / (rel + ".jp2"))
        if RES[name] == 10:
            r, c = dn.shape
            blocks = dn.reshape(r // 2, 2, c // 2, 2)
            mean = ((blocks.sum(axis=(1, 3), dtype=np.uint32) + 2) // 4).astype(np.uint16)
            mean[(blocks == sat).any(axis=(1, 3))] = sat
            mean[(blocks == nodata).any(axis=(1, 3))] = nodata
            dn = mean
        off = offsets.get(BAND_IDS[name], 0.0)
        r = ((dn.astype(np.float64) + off) / q).astype(np.float32)
        r[dn == nodata] = np.nan
        r[dn == sat] = np.float32((sat + off) / q)
        if RES[name] == 60:
            r = np.repeat(np.repeat(r, 3, axis=0), 3, axis=1)
        rho.append(r)
    cloud = None
    for e in find_all(tl, "MASK_FILENAME"):
        if e.get("type") == "MSK_CLASSI" and e.text.endswith(".jp2"):
            m = jp2(safe / e.text)
            c60 = (m[..., 0] != 0) | (m[..., 1] != 0)
            cloud = np.repeat(np.repeat(c60, 3, axis=0), 3, axis=1)
    return rho, cloud, None, 90.0 - zenith


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("product", type=Path)
    ap.add_argument("-o", type=Path)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = ap.parse_args()
    model = tomllib.loads(args.model.read_text())
    t0, c0 = time.perf_counter(), time.process_time()
    rho, cloud, water, sun_elevation = read_product(args.product)
    t1, c1 = time.perf_counter(), time.process_time()
    day = sun_elevation > model["day_min_sun_elevation_deg"]
    fires, candidates = oli.detect(rho, cloud, water, day, model)
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
