"""A MODIS or FY-3D MERSI-II granule scanned in numpy from its files, for `benches/modis_read.rs`:
what a Python user of the usual libraries would write (pyhdf for the HDF4 MODIS pair, h5py for
the HDF5 MERSI pair), the calibration vectorised over whole arrays (radiance, then the inverse
Planck function per pixel; reflectance ÷ cos θ₀), then the same C6.1 detection as
`benches/numpy_modis.py` (imported from beside this file) with the model file given.

The calibration follows the Rust readers rule for rule (`src/product/modis_l1b.rs`,
`src/product/mersi_l1.rs`; their module docs name the sources): bands by `band_names`, counts
above `valid_range` are error codes, the saturated code → the band's largest value, the others
NaN; the MODIS emissive bands at the effective central wavenumbers below (the reader's `BANDS`);
MERSI's `Slope`/`Intercept`, `Effect_Center_WaveLength`, `TBB_Trans_Coefficient_A/B`,
`VIS_Cal_Coeff`, channels 24-25's `valid_range` 4095 read as 25000.

Usage: python3 numpy_modis_products.py modis|mersi DATA GEO MODEL.toml AREA.f64 OUT.csv
AREA.f64: the pixel area (m²) per column, float64 (the bench computes it from the geolocation,
untimed). Prints "read_s detect_s potential_count"; writes the fires as row,col,class,frp_mw.
"""

import os
import sys
import time
import tomllib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy_modis  # noqa: E402

C1, C2 = numpy_modis.C1, numpy_modis.C2

# MODIS: band -> effective central wavenumber (cm^-1), as `modis_l1b::BANDS`.
MODIS_EMISSIVE = {"B21": ("21", 2505.277), "B22": ("22", 2518.028), "B31": ("31", 908.0884), "B32": ("32", 831.5399)}
MODIS_REFLECTIVE = {"B1": ("EV_250_Aggr1km_RefSB", "1"), "B2": ("EV_250_Aggr1km_RefSB", "2"), "B7": ("EV_500_Aggr1km_RefSB", "7")}
ANGLES = {"SZA": "SolarZenith", "VZA": "SensorZenith", "SAA": "SolarAzimuth", "VAA": "SensorAzimuth"}


def inverse_planck(wl_um, radiance):
    """BT (K) of radiance (W m^-2 sr^-1 um^-1), float64; NaN where radiance <= 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        bt = C2 / (wl_um * np.log1p(C1 / (wl_um**5 * radiance)))
    return np.where(radiance > 0, bt, np.nan)


def cos_sun(sza):
    with np.errstate(invalid="ignore"):
        return np.where(sza < 90, np.cos(np.radians(sza)), np.nan).astype(np.float32)


def divide_cos(rho_cos, cos):
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(cos), rho_cos, rho_cos / cos).astype(np.float32)


def read_modis(data, geo):
    from pyhdf.SD import SD, SDC

    f = SD(data, SDC.READ)
    g = SD(geo, SDC.READ)
    band = {}
    for name in ("Latitude", "Longitude"):
        g.select(name)[:, :]  # read as a scan would (positions of the fires)
    for canon, sds in ANGLES.items():
        s = g.select(sds)
        a = s.attributes()
        v = s[:, :]
        band[canon] = np.where(v == a.get("_FillValue", -32767), np.nan, v * np.float32(a.get("scale_factor", 0.01))).astype(np.float32)
    water = np.isin(g.select("Land/SeaMask")[:, :], [0, 3, 5, 6, 7])
    cos = cos_sun(band["SZA"])
    product_sat = None

    def plane(sds_name, b):
        s = f.select(sds_name)
        a = s.attributes()
        i = [x.strip() for x in a["band_names"].split(",")].index(b)
        lo, hi = a.get("valid_range", (0, 32767))
        return s[i, :, :], a, i, np.uint16(lo), np.uint16(hi)

    for canon, (b, nu) in MODIS_EMISSIVE.items():
        c, a, i, lo, hi = plane("EV_1KM_Emissive", b)
        scale, offset = np.float32(a["radiance_scales"][i]), np.float32(a["radiance_offsets"][i])
        rad = scale * (c.astype(np.float32) - offset)
        ok = (c >= lo) & (c <= hi)
        wl = 1e4 / nu
        bt = inverse_planck(wl, np.where(ok, rad, np.nan).astype(np.float64)).astype(np.float32)
        sat = np.float32(inverse_planck(wl, np.float64(scale * (np.float32(hi) - offset))))
        band[canon] = np.where(c == 65533, sat, bt)
        if canon == "B22":
            product_sat = float(sat)
    for canon, (sds_name, b) in MODIS_REFLECTIVE.items():
        c, a, i, lo, hi = plane(sds_name, b)
        scale, offset = np.float32(a["reflectance_scales"][i]), np.float32(a["reflectance_offsets"][i])
        rho = scale * (c.astype(np.float32) - offset)
        rho = np.where((c >= lo) & (c <= hi), rho, np.nan)
        rho = np.where(c == 65533, scale * (np.float32(hi) - offset), rho).astype(np.float32)
        band[canon] = divide_cos(rho, cos)
    return band, water, product_sat


def read_mersi(data, geo):
    import h5py

    f = h5py.File(data, "r")
    g = h5py.File(geo, "r")
    band = {}
    for name in ("Latitude", "Longitude"):
        g["Geolocation/" + name][...]
    for canon, sds in ANGLES.items():
        ds = g["Geolocation/" + sds]
        v = ds[...]
        slope = np.float32(ds.attrs.get("Slope", [0.01])[0])
        icpt = np.float32(ds.attrs.get("Intercept", [0.0])[0])
        fill = ds.attrs.get("FillValue", [-32767])[0]
        band[canon] = np.where(v == fill, np.nan, v * slope + icpt).astype(np.float32)
    water = np.isin(g["Geolocation/LandSeaMask"][...], [0, 3, 5, 6, 7])
    cos = cos_sun(band["SZA"])
    centres = f.attrs["Effect_Center_WaveLength"]
    tbb_a, tbb_b = f.attrs["TBB_Trans_Coefficient_A"], f.attrs["TBB_Trans_Coefficient_B"]
    vis = f["Calibration/VIS_Cal_Coeff"][...].reshape(-1, 3).astype(np.float64)
    # canonical -> (dataset, index in it, channel)
    chans = {
        "B1": ("Data/EV_250_Aggr.1KM_RefSB", 2, 3),
        "B2": ("Data/EV_250_Aggr.1KM_RefSB", 3, 4),
        "B7": ("Data/EV_1KM_RefSB", 2, 7),
        "B21": ("Data/EV_1KM_Emissive", 0, 20),
        "B22": ("Data/EV_1KM_Emissive", 1, 21),
        "B31": ("Data/EV_250_Aggr.1KM_Emissive", 0, 24),
        "B32": ("Data/EV_250_Aggr.1KM_Emissive", 1, 25),
    }
    product_sat = None
    for canon, (path, i, ch) in chans.items():
        ds = f[path]
        c = ds[i]
        slope = float(np.atleast_1d(ds.attrs["Slope"])[i])
        icpt = float(np.atleast_1d(ds.attrs["Intercept"])[i])
        lo, hi = (int(x) for x in ds.attrs["valid_range"])
        if path.endswith("Aggr.1KM_Emissive") and hi == 4095:
            hi = 25000
        ok = (c >= lo) & (c <= hi)
        dn = c * slope + icpt
        if ch >= 20:
            nu = 1e4 / float(centres[ch - 1])
            a, b = float(tbb_a[ch - 20]), float(tbb_b[ch - 20])

            def bt_of(r):
                te = inverse_planck(1e4 / nu, r * 1e-7 * nu * nu)
                return (te - b) / a if a != 0 else te

            bt = bt_of(np.where(ok, dn, np.nan)).astype(np.float32)
            sat = np.float32(bt_of(np.float64(hi * slope + icpt)))
            band[canon] = np.where(c == 65534, sat, bt)
            if canon == "B22":
                product_sat = float(sat)
        else:
            c0, c1, c2 = vis[ch - 1]
            rho = ((c0 + c1 * dn + c2 * dn * dn) / 100.0).astype(np.float32)
            top = np.float32((c0 + c1 * (hi * slope + icpt) + c2 * (hi * slope + icpt) ** 2) / 100.0)
            rho = np.where(c == 65534, top, np.where(ok, rho, np.nan)).astype(np.float32)
            band[canon] = divide_cos(rho, cos)
    return band, water, product_sat


def main():
    kind, data, geo, model_path, area_path, out_path = sys.argv[1:7]
    with open(model_path, "rb") as fh:
        m = tomllib.load(fh)
    area = np.fromfile(area_path, dtype="<f8")
    t0 = time.perf_counter()
    band, water, product_sat = (read_modis if kind == "modis" else read_mersi)(data, geo)
    t1 = time.perf_counter()
    out, potential = numpy_modis.detect(m, band, water, area, product_sat)
    t2 = time.perf_counter()
    numpy_modis.write_fires(out_path, out)
    print(f"{t1 - t0:.3f} {t2 - t1:.3f} {potential}")


if __name__ == "__main__":
    main()
