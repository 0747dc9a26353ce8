"""The geopandas side of benches/locate.rs: `locate_geopandas.py MODE PARCELS HOTSPOTS`.

MODE `overlap` (case viirs): the same join as strawfire: read the parcel layer (pyogrio), read
the hotspots (pandas), build each hotspot's pixel footprint (scan km east-west, track km
north-south, as strawfire does), sjoin on shapely's STRtree, overlap share of each footprint,
best parcel per hotspot.
MODE `points` (case field): the point-in-polygon join of the pixel centres (`sjoin` `within`),
the parcel holding each hotspot's centre; no footprints, no shares.
Prints timings and result figures in the format of the Rust side."""
import sys
import time

import numpy as np
import pandas as pd
import geopandas as gpd
import shapely

M_PER_DEG_LAT = 111_195.0
mode, parcels_path, hotspots_path = sys.argv[1], sys.argv[2], sys.argv[3]

class Clock:
    """Wall and CPU seconds of a phase (the machine is shared: CPU time is the fair figure)."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self):
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


t_all = Clock()
t = Clock()
try:
    parcels = gpd.read_file(parcels_path, engine="pyogrio", use_arrow=True)
    how = "pyogrio+arrow"
except Exception:
    parcels = gpd.read_file(parcels_path, engine="pyogrio")
    how = "pyogrio"
read_layer = t.stop()

t = Clock()
parcels.sindex  # builds the STRtree
index = t.stop()

if mode == "points":
    t = Clock()
    h = pd.read_csv(hotspots_path)
    hot = gpd.GeoDataFrame(
        {"hid": np.arange(len(h))}, geometry=gpd.points_from_xy(h.longitude, h.latitude), crs=parcels.crs
    )
    read_h = t.stop()
    t = Clock()
    joined = gpd.sjoin(hot, parcels, how="inner", predicate="within")
    first = joined.groupby("hid").head(1)
    match = t.stop()
    total = t_all.stop()
    print("phase | wall s | CPU s")
    print(f"read layer ({how}) | {read_layer[0]:.2f} | {read_layer[1]:.2f}")
    print(f"build STRtree (sindex) | {index[0]:.2f} | {index[1]:.2f}")
    print(f"read hotspots + points | {read_h[0]:.2f} | {read_h[1]:.2f}")
    print(f"match (sjoin within) | {match[0]:.2f} | {match[1]:.2f} | {len(h) / match[1]:.0f} hotspots/CPU-s")
    print(f"end to end | {total[0]:.2f} | {total[1]:.2f}")
    print(f"result: {first.hid.nunique()} hotspot centres in a parcel, {len(joined)} hotspot-parcel pairs")
    b0 = first[first.hid == 0]
    print(f"parcel of hotspot 0: {b0.parcel_id.iloc[0] if len(b0) else None}")
    sys.exit(0)

t = Clock()
h = pd.read_csv(hotspots_path)
half_h = h.track * 500.0 / M_PER_DEG_LAT
half_w = h.scan * 500.0 / (M_PER_DEG_LAT * np.cos(np.radians(h.latitude)))
boxes = shapely.box(h.longitude - half_w, h.latitude - half_h, h.longitude + half_w, h.latitude + half_h)
hot = gpd.GeoDataFrame({"hid": np.arange(len(h))}, geometry=boxes, crs=parcels.crs)
read_h = t.stop()

t = Clock()
joined = gpd.sjoin(hot, parcels, how="inner", predicate="intersects")
sjoin = t.stop()
t = Clock()
inter = shapely.intersection(hot.geometry.values[joined.index.values], parcels.geometry.values[joined.index_right.values])
frac = shapely.area(inter) / shapely.area(hot.geometry.values[joined.index.values])
joined = joined.assign(fraction=frac)
joined = joined[joined.fraction > 1e-9]
best = joined.sort_values(["hid", "fraction"], ascending=[True, False]).groupby("hid").head(1)
overlap = t.stop()
total = t_all.stop()

match = (sjoin[0] + overlap[0], sjoin[1] + overlap[1])
print("phase | wall s | CPU s")
print(f"read layer ({how}) | {read_layer[0]:.2f} | {read_layer[1]:.2f}")
print(f"build STRtree (sindex) | {index[0]:.2f} | {index[1]:.2f}")
print(f"read hotspots + footprints | {read_h[0]:.2f} | {read_h[1]:.2f}")
print(f"sjoin intersects | {sjoin[0]:.2f} | {sjoin[1]:.2f}")
print(f"overlap shares + best parcel | {overlap[0]:.2f} | {overlap[1]:.2f}")
print(f"match (sjoin + shares) | {match[0]:.2f} | {match[1]:.2f} | {len(h) / match[1]:.0f} hotspots/CPU-s")
print(f"end to end | {total[0]:.2f} | {total[1]:.2f}")
print(f"result: {best.hid.nunique()} hotspots on parcels, {len(joined)} hotspot-parcel pairs, sum of shares {joined.fraction.sum():.1f}")
b0 = best[best.hid == 0]
print(f"best parcel of hotspot 0: {b0.parcel_id.iloc[0] if len(b0) else None} {b0.fraction.iloc[0] if len(b0) else ''}")
