"""Regenerates the locate samples in this folder (run from the crate root:
`python3 samples/admin/make_samples.py`; needs geopandas, shapely >= 2).

- henan_hua_counties_gcj02.geojson: REAL county polygons (滑县 410526 and four neighbours) from
  ../shared/data/admin/garybikini_county_shp/henan_410000.shp, simplified with a 0.0005° (~50 m)
  tolerance (topology kept per polygon), coordinates left in GCJ-02 as in the source.
- henan_hua_townships_generated_gcj02.geojson: GENERATED. Each county is split into as many
  Voronoi cells (seeded random points inside it) as it has real townships in
  ../shared/data/admin/modood_codes/streets.csv, clipped to the county; each cell carries one real
  township code and name in code order. Real codes and names, invented boundaries.
- henan_hua_parcels_generated_gcj02.geojson: GENERATED. Field strips 100 m x 250 m on a grid over
  a 4 km x 4 km block of 滑县 (some cut by a 6 m lane), each clipped to the generated township
  holding its centre (field `township`), ids `HUA-<row>-<col>`.
"""
import csv
import numpy as np
import geopandas as gpd
import shapely
from shapely.geometry import box

SRC = "../shared/data/admin/garybikini_county_shp/henan_410000.shp"
STREETS = "../shared/data/admin/modood_codes/streets.csv"
CODES = ["410526", "410527", "410621", "410727", "410783"]
OUT = "samples/admin/"
rng = np.random.default_rng(20240605)

counties = gpd.read_file(SRC)
counties = counties[counties.adcode.isin(CODES)][["adcode", "name", "ctadcode", "geometry"]]
counties["geometry"] = counties.geometry.simplify(0.0005, preserve_topology=True)
counties = counties.sort_values("adcode").reset_index(drop=True)
counties.to_file(OUT + "henan_hua_counties_gcj02.geojson", driver="GeoJSON",
                 layer_options={"COORDINATE_PRECISION": 6, "WRITE_NAME": "NO"})

streets = {}
with open(STREETS, encoding="utf-8") as f:
    for row in csv.DictReader(f):
        streets.setdefault(row["areaCode"], []).append((row["code"], row["name"]))

towns = []
for _, c in counties.iterrows():
    real = sorted(streets[c.adcode])
    poly = c.geometry
    minx, miny, maxx, maxy = poly.bounds
    seeds = []
    while len(seeds) < len(real):
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if poly.contains(p):
            seeds.append(p)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=poly.envelope.buffer(0.1))
    # voronoi_polygons returns cells in arbitrary order: order them by the seed they hold.
    cells = list(cells.geoms)
    ordered = [next(cell for cell in cells if cell.contains(s)) for s in seeds]
    for (code, name), cell in zip(real, ordered):
        g = cell.intersection(poly)
        towns.append({"code": code, "name": name, "county": c.adcode, "generated": "yes", "geometry": g})
gpd.GeoDataFrame(towns, crs=counties.crs).to_file(
    OUT + "henan_hua_townships_generated_gcj02.geojson", driver="GeoJSON",
    layer_options={"COORDINATE_PRECISION": 6, "WRITE_NAME": "NO"})

hua = counties[counties.adcode == "410526"].geometry.iloc[0]
hua_towns = [t for t in towns if t["county"] == "410526"]
cx, cy = 114.56, 35.50
m_lat = 1 / 111195.0
m_lon = m_lat / np.cos(np.radians(cy))
parcels = []
for r in range(16):          # 16 x 250 m north-south
    for k in range(40):      # 40 x 100 m east-west
        x0 = cx - 2000 * m_lon + k * 100 * m_lon
        y0 = cy - 2000 * m_lat + r * 250 * m_lat
        g = box(x0, y0, x0 + 100 * m_lon, y0 + 250 * m_lat)
        if rng.random() < 0.15:   # a farm lane cuts the strip in two
            cut = y0 + rng.uniform(60, 190) * m_lat
            lane = box(x0 - 1, cut, x0 + 1, cut + 6 * m_lat)
            g = g.difference(lane)
        g = g.intersection(hua)
        # Each field lies in one township: the one holding its centre; it is cut at the border.
        town = next((t for t in hua_towns if t["geometry"].contains(g.centroid)), None)
        if g.is_empty or town is None:
            continue
        g = g.intersection(town["geometry"])
        if g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        crop = "wheat" if rng.random() < 0.8 else "maize"
        parcels.append({"parcel_id": f"HUA-{r:02}-{k:02}", "township": town["code"], "crop": crop,
                        "generated": "yes", "geometry": g})
gpd.GeoDataFrame(parcels, crs=counties.crs).to_file(
    OUT + "henan_hua_parcels_generated_gcj02.geojson", driver="GeoJSON",
    layer_options={"COORDINATE_PRECISION": 7, "WRITE_NAME": "NO"})
print(len(counties), "counties,", len(towns), "townships,", len(parcels), "parcels")
