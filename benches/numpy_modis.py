"""The MODIS C6.1 fire algorithm in straightforward numpy, for `benches/modis.rs`.

The same algorithm as `src/detect/modis/` (same thresholds, read from the model file given):
the per-pixel tests vectorised over the whole granule, a summed-area table of valid background
pixels to size each potential fire's window, then each potential fire's window statistics,
contextual tests, daytime rejections and confidence in a Python loop over potential fires (the
way such a numpy implementation is usually written: the windows grow per pixel).

Usage: python3 numpy_modis.py DIR MODEL.toml ROWS COLS
DIR holds the bands as raw little-endian float32 (`B1.f32` ... `VAA.f32`), `water.u8`,
`area.f64` (per column) and `b22_saturation.txt`; writes `DIR/numpy_fires.csv`
(row,col,class,frp_mw) and prints the time of the detection alone (reading excluded).
"""

import sys
import time
import tomllib

import numpy as np

C1 = 1.191042e8
C2 = 1.4387752e4
SIGMA = 5.670374e-8


def planck(wl, t):
    return C1 / (wl**5 * np.expm1(C2 / (wl * t)))


def ramp(x, a, b):
    if np.isnan(x) or x <= a:
        return 0.0
    if x >= b:
        return 1.0
    return (x - a) / (b - a)


def z(x, mean, dev):
    if dev > 0:
        return (x - mean) / dev
    return np.inf if x > mean else (-np.inf if x < mean else 0.0)


def detect(m, band, water, area, product_sat):
    """The algorithm on bands in memory: `band` canonical name -> float32 (rows, cols), `water`
    bool, `area` m² per column, `product_sat` the product's band-22 saturation (K). Returns the
    fires as (row, col, class, frp_mw) and the number of potential fires."""
    rows, cols = band["B22"].shape
    b1, b2, b7 = band["B1"], band["B2"], band["B7"]
    b21, b22, t11, t12, sza = band["B21"], band["B22"], band["B31"], band["B32"], band["SZA"]
    sat = np.float32(min(m["bands"]["b22_saturation_k"], product_sat))
    with np.errstate(invalid="ignore", divide="ignore"):
        use21 = np.isnan(b22) | (b22 >= sat)
        t4 = np.where(use21, b21, b22)
        day = sza < np.float32(m["day_max_sza_deg"])
        missing = np.isnan(t4) | np.isnan(t11) | np.isnan(t12) | np.isnan(sza)
        missing |= day & (np.isnan(b1) | np.isnan(b2) | np.isnan(b7))
        dt = t4 - t11
        c = m["cloud"]
        vis = b1 + b2
        f32 = np.float32
        cloud = np.where(
            day,
            (vis > f32(c["day_vis_sum_bright"]))
            | (t12 < f32(c["day_t12_cold_k"]))
            | ((vis > f32(c["day_vis_sum"])) & (t12 < f32(c["day_t12_k"]))),
            t12 < f32(c["night_t12_cold_k"]),
        )
        co = m["coastal"]
        ndvi = (b2 - b1) / (b2 + b1)
        dark = day & (b7 < f32(co["rho21_max"])) & (b2 < f32(co["rho086_max"])) & (ndvi < f32(co["ndvi_max"]))
        cls = np.where(missing, 0, np.where(cloud, 4, np.where(water, 3, 5))).astype(np.uint8)
        land = cls == 5
        isw = cls == 3
        # C6: clear water is processed too (its background is water).
        proc = land | (isw & bool(m["water"]["process"]))
        p, b = m["potential"], m["background"]
        potential = proc & np.where(
            day,
            (t4 > f32(p["day_t4_k"])) & (dt > f32(p["day_dt_k"])) & (b2 < f32(p["day_rho086_max"])),
            (t4 > f32(p["night_t4_k"])) & (dt > f32(p["night_dt_k"])),
        )
        bgfire = potential & np.where(
            day,
            (t4 > f32(b["fire_day_t4_k"])) & (dt > f32(b["fire_day_dt_k"])),
            (t4 > f32(b["fire_night_t4_k"])) & (dt > f32(b["fire_night_dt_k"])),
        )
        absolute = potential & (
            t4 > np.where(day, f32(m["absolute"]["day_t4_k"]), f32(m["absolute"]["night_t4_k"]))
        )
        valid = proc & ~bgfire
        unmasked = land & dark
        # C6 dynamic night threshold: window median of clear-land T4 + excess, within bounds.
        night_low = (
            ~day & land & ~potential & bool(p["night_dynamic"])
            & (t4 > f32(p["night_dynamic_min_k"])) & (t4 <= f32(p["night_t4_k"]))
            & (dt > f32(p["night_dt_k"]))
        )
        # Glint angle (f32 like the Rust).
        ts, tv = np.radians(sza), np.radians(band["VZA"])
        phi = np.radians(band["SAA"] - band["VAA"])
        glint = np.degrees(np.arccos(np.clip(np.cos(tv) * np.cos(ts) - np.sin(tv) * np.sin(ts) * np.cos(phi), -1, 1)))

    hr, hc = p["night_dynamic_rows"] // 2, p["night_dynamic_cols"] // 2
    for r, c in zip(*np.nonzero(night_low)):
        r0, r1 = max(r - hr, 0), min(r + p["night_dynamic_rows"] - hr, rows)
        c0, c1 = max(c - hc, 0), min(c + p["night_dynamic_cols"] - hc, cols)
        v = np.sort(t4[r0:r1, c0:c1][land[r0:r1, c0:c1]])
        thr = p["night_t4_k"] if len(v) == 0 else min(max(v[len(v) // 2] + f32(p["night_dynamic_excess_k"]), f32(p["night_dynamic_min_k"])), f32(p["night_t4_k"]))
        if t4[r, c] > f32(thr):
            potential[r, c] = True
    # The land pixels of the C6 water-pixel coastal test: the mask, cloud or not.
    land_mask = ~water
    tabs = {}
    for w in (False, True):
        t = np.zeros((rows + 1, cols + 1), dtype=np.int64)
        t[1:, 1:] = np.cumsum(np.cumsum(valid & (isw == w), axis=0), axis=1)
        tabs[w] = t
    t4d = t4.astype(np.float64)
    t11d = t11.astype(np.float64)
    wl = m["bands"]["t4_wavelength_um"]
    excl = b["exclude_along_scan_neighbours"]
    ctx, gl, de, fc, cc = m["context"], m["glint"], m["desert"], m["forest_clearing"], m["confidence"]
    out = []
    for r, cc_ in zip(*np.nonzero(potential)):
        r, cc_ = int(r), int(cc_)
        w = bool(isw[r, cc_])
        sat_tab = tabs[w]
        vdom = valid & (isw == w)
        stats = None
        for h in range(b["window_min"] // 2, b["window_max"] // 2 + 1):
            r0, r1, c0, c1 = max(r - h, 0), min(r + h + 1, rows), max(cc_ - h, 0), min(cc_ + h + 1, cols)
            n = sat_tab[r1, c1] - sat_tab[r0, c1] - sat_tab[r1, c0] + sat_tab[r0, c0]
            npix = (r1 - r0) * (c1 - c0) - 1
            n -= int(vdom[r, cc_])
            if excl:
                for j in (cc_ - 1, cc_ + 1):
                    if c0 <= j < c1:
                        npix -= 1
                        n -= int(vdom[r, j])
            if n >= b["min_valid"] and n >= b["min_valid_fraction"] * npix:
                keep = np.ones((r1 - r0, c1 - c0), dtype=bool)
                keep[r - r0, cc_ - c0] = False
                if excl:
                    for j in (cc_ - 1, cc_ + 1):
                        if c0 <= j < c1:
                            keep[r - r0, j - c0] = False
                dom = isw[r0:r1, c0:c1] == w
                vk = valid[r0:r1, c0:c1] & keep & dom
                fk = bgfire[r0:r1, c0:c1] & keep & dom
                a4, a11 = t4d[r0:r1, c0:c1][vk], t11d[r0:r1, c0:c1][vk]
                adt = a4 - a11
                s = dict(side=2 * h + 1, n=len(a4), mean4=a4.mean(), mean11=a11.mean(), meandt=adt.mean())
                s["mad4"] = np.abs(a4 - s["mean4"]).mean()
                s["mad11"] = np.abs(a11 - s["mean11"]).mean()
                s["maddt"] = np.abs(adt - s["meandt"]).mean()
                s["meanl4"] = planck(wl, a4).mean()
                f4 = t4d[r0:r1, c0:c1][fk]
                s["nf"] = len(f4)
                s["mean4f"] = f4.mean() if len(f4) else 0.0
                s["mad4f"] = np.abs(f4 - s["mean4f"]).mean() if len(f4) else 0.0
                s["nw"] = int((cls[r0:r1, c0:c1] == 3)[keep].sum())
                s["nuw"] = int(unmasked[r0:r1, c0:c1][keep].sum())
                s["nland"] = int(land_mask[r0:r1, c0:c1][keep].sum())
                stats = s
                break
        x4, x11 = float(t4d[r, cc_]), float(t11d[r, cc_])
        xdt = x4 - x11
        isday, isabs = bool(day[r, cc_]), bool(absolute[r, cc_])
        if stats is None:
            if not isabs:
                out.append((r, cc_, 6, np.nan))
                continue
            test = "abs"
        else:
            s = stats
            t1 = xdt > s["meandt"] + ctx["dt_mads"] * s["maddt"]
            t2 = xdt > s["meandt"] + ctx["dt_min_excess_k"]
            t3 = x4 > s["mean4"] + ctx["t4_mads"] * s["mad4"]
            t4_ = x11 > s["mean11"] + ctx["t11_mads"] * s["mad11"] + ctx["t11_offset_k"]
            t5 = s["nf"] > 0 and s["mad4f"] > ctx["fire_t4_mad_min_k"]
            contextual = t1 and t2 and t3 and ((not isday) or t4_ or t5)
            if isabs:
                test = "abs"
            elif contextual:
                test = "ctx"
            else:
                continue
        if w and test == "ctx" and stats["nland"] > 0:
            continue  # C6 water-pixel coastal rejection
        r0, r1, c0, c1 = max(r - 1, 0), min(r + 2, rows), max(cc_ - 1, 0), min(cc_ + 2, cols)
        nb = cls[r0:r1, c0:c1]
        adj_cloud, adj_water = int((nb == 4).sum()), int((nb == 3).sum())
        if isday:
            th = float(glint[r, cc_])
            rr1, rr2, rr7 = float(b1[r, cc_]), float(b2[r, cc_]), float(b7[r, cc_])
            water_near = (stats["nw"] + stats["nuw"] if stats else adj_water) > 0
            if th < gl["always_deg"] or (th < gl["bright_deg"] and rr1 > gl["bright_rho065"] and rr2 > gl["bright_rho086"] and rr7 > gl["bright_rho21"]) or (th < gl["water_deg"] and water_near):
                continue
            if stats and not w:
                s = stats
                if s["nf"] > de["fire_share"] * s["n"] and s["nf"] >= de["fire_count"] and rr2 > de["rho086_min"] and s["mean4f"] < de["fire_t4_mean_max_k"] and s["mad4f"] < de["fire_t4_mad_max_k"] and x4 < s["mean4f"] + de["fire_t4_mads"] * s["mad4f"]:
                    continue
                if test == "ctx" and s["nuw"] > 0:
                    continue
                if x11 > s["mean11"] + fc["t11_mads"] * s["mad11"] and rr2 > fc["rho086_min"] and x4 < fc["t4_max_k"]:
                    continue
        c1_ = ramp(x4, *(cc["day_t4_ramp_k"] if isday else cc["night_t4_ramp_k"]))
        if stats:
            c2 = ramp(z(x4, stats["mean4"], stats["mad4"]), *cc["z4_ramp"])
            c3 = ramp(z(xdt, stats["meandt"], stats["maddt"]), *cc["zdt_ramp"])
        else:
            c2 = c3 = 1.0
        if isday:
            c4 = 1 - ramp(adj_cloud, *cc["adjacent_ramp"])
            c5 = 1 - ramp(adj_water, *cc["adjacent_ramp"])
            conf = (c1_ * c2 * c3 * c4 * c5) ** (1 / 5)
        else:
            conf = (c1_ * c2 * c3) ** (1 / 3)
        klass = 7 if conf < cc["low_below"] else (8 if conf < cc["high_from"] else 9)
        bg_l4 = stats["meanl4"] if stats else planck(wl, x11)
        frp = area[cc_] * SIGMA / m["frp"]["coefficient"] * (planck(wl, x4) - bg_l4) / 1e6
        out.append((r, cc_, klass, max(frp, 0.0)))
    return out, int(potential.sum())


def write_fires(path, out):
    with open(path, "w") as f:
        for r, c, k, frp in out:
            f.write(f"{r},{c},{k},{frp}\n")


def main():
    d, model_path, rows, cols = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(model_path, "rb") as f:
        m = tomllib.load(f)
    band = {
        n: np.fromfile(f"{d}/{n}.f32", dtype="<f4").reshape(rows, cols)
        for n in ["B1", "B2", "B7", "B21", "B22", "B31", "B32", "SZA", "VZA", "SAA", "VAA"]
    }
    water = np.fromfile(f"{d}/water.u8", dtype=np.uint8).reshape(rows, cols) != 0
    area = np.fromfile(f"{d}/area.f64", dtype="<f8")
    product_sat = float(open(f"{d}/b22_saturation.txt").read())
    t0 = time.perf_counter()
    out, potential = detect(m, band, water, area, product_sat)
    elapsed = time.perf_counter() - t0
    write_fires(f"{d}/numpy_fires.csv", out)
    print(f"{elapsed:.3f} {potential}")


if __name__ == "__main__":
    main()
