"""The same join as benches/locate.rs, in geopandas: read the parcel layer (pyogrio), read the
hotspots (pandas), build each hotspot's pixel footprint (scan km east-west, track km
north-south, as strawfire does), sjoin on shapely's STRtree, overlap share of each footprint,
best parcel per hotspot. Prints timings and the same result figures as the Rust side."""
import sys
import time

import numpy as np
import pandas as pd
import geopandas as gpd
import shapely

M_PER_DEG_LAT = 111_195.0
parcels_path, hotspots_path = sys.argv[1], sys.argv[2]

t_all = time.perf_counter()
t = time.perf_counter()
try:
    parcels = gpd.read_file(parcels_path, engine="pyogrio", use_arrow=True)
    how = "pyogrio+arrow"
except Exception:
    parcels = gpd.read_file(parcels_path, engine="pyogrio")
    how = "pyogrio"
read_layer_s = time.perf_counter() - t

t = time.perf_counter()
parcels.sindex  # builds the STRtree
index_s = time.perf_counter() - t

t = time.perf_counter()
h = pd.read_csv(hotspots_path)
half_h = h.track * 500.0 / M_PER_DEG_LAT
half_w = h.scan * 500.0 / (M_PER_DEG_LAT * np.cos(np.radians(h.latitude)))
boxes = shapely.box(h.longitude - half_w, h.latitude - half_h, h.longitude + half_w, h.latitude + half_h)
hot = gpd.GeoDataFrame({"hid": np.arange(len(h))}, geometry=boxes, crs=parcels.crs)
read_hotspots_s = time.perf_counter() - t

t = time.perf_counter()
joined = gpd.sjoin(hot, parcels, how="inner", predicate="intersects")
sjoin_s = time.perf_counter() - t
t = time.perf_counter()
inter = shapely.intersection(hot.geometry.values[joined.index.values], parcels.geometry.values[joined.index_right.values])
frac = shapely.area(inter) / shapely.area(hot.geometry.values[joined.index.values])
joined = joined.assign(fraction=frac)
joined = joined[joined.fraction > 1e-9]
best = joined.sort_values(["hid", "fraction"], ascending=[True, False]).groupby("hid").head(1)
overlap_s = time.perf_counter() - t
total_s = time.perf_counter() - t_all

print(f"read layer ({how}):            {read_layer_s:.2f} s")
print(f"build STRtree (sindex):        {index_s:.2f} s")
print(f"read hotspots + footprints:    {read_hotspots_s:.2f} s")
print(f"sjoin intersects:              {sjoin_s:.2f} s")
print(f"overlap shares + best parcel:  {overlap_s:.2f} s")
print(f"match (sjoin + shares):        {sjoin_s + overlap_s:.2} s = {len(h) / (sjoin_s + overlap_s):.0f} hotspots/s")
print(f"end to end:                    {total_s:.2f} s")
print(f"result: {best.hid.nunique()} hotspots on parcels, {len(joined)} hotspot-parcel pairs, sum of shares {joined.fraction.sum():.1f}")
b0 = best[best.hid == 0]
print(f"best parcel of hotspot 0: {b0.parcel_id.iloc[0] if len(b0) else None} {b0.fraction.iloc[0] if len(b0) else ''}")
