//! The detector's inputs and outputs, as plain data.

use ndarray::ArrayView2;

use crate::raster::BandBuf;

use crate::hotspot::Confidence;

/// The VIIRS I-band inputs of one scene, as views: reflectances ρ1–ρ3 (0–1), brightness
/// temperatures BT4, BT5 (K), solar zenith (°), and optionally view zenith, solar and view azimuth
/// (°) for sun glint. Invalid pixels are NaN. All arrays are `[row, col]` with one shape.
#[derive(Debug, Clone, Copy)]
pub struct ViirsInput<'a> {
    pub i1: ArrayView2<'a, f32>,
    pub i2: ArrayView2<'a, f32>,
    pub i3: ArrayView2<'a, f32>,
    pub i4: ArrayView2<'a, f32>,
    pub i5: ArrayView2<'a, f32>,
    pub sza: ArrayView2<'a, f32>,
    /// View zenith, solar azimuth, view azimuth: all three or none.
    pub geometry: Option<GlintGeometry<'a>>,
    /// The product's land/water mask (non-zero = water), when it has one: water is then decided
    /// by it, day and night, instead of by reflectances by day only.
    pub water: Option<ArrayView2<'a, u8>>,
}

/// Sun/view geometry for the glint angle.
#[derive(Debug, Clone, Copy)]
pub struct GlintGeometry<'a> {
    pub vza: ArrayView2<'a, f32>,
    pub saa: ArrayView2<'a, f32>,
    pub vaa: ArrayView2<'a, f32>,
}

impl ViirsInput<'_> {
    /// (rows, cols).
    pub fn dim(&self) -> (usize, usize) {
        self.i4.dim()
    }
}

/// Ground area of each pixel, for FRP: map grids have one area per row at most, a scanner's
/// swath one per column (the pixel grows with the scan angle, the same on every scan line).
#[derive(Debug, Clone, PartialEq)]
pub enum PixelArea {
    /// Every pixel has this area, m².
    Constant(f64),
    /// Area per row, m² (geographic grids: the area shrinks with the cosine of latitude).
    PerRow(Vec<f64>),
    /// Area per column, m² (a swath: `product::viirs_iband::pixel_area_m2` of each sample).
    PerColumn(Vec<f64>),
}

impl PixelArea {
    /// The area of pixel (row, col), m².
    pub fn at(&self, row: usize, col: usize) -> f64 {
        match self {
            PixelArea::Constant(a) => *a,
            PixelArea::PerRow(v) => v[row],
            PixelArea::PerColumn(v) => v[col],
        }
    }
}

/// Fire-mask classes of VNP14IMG (Schroeder 2014, sec. 2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum MaskClass {
    NotProcessed = 0,
    /// Bow-tie deletion / fill: no data.
    Fill = 1,
    Glint = 2,
    Water = 3,
    Cloud = 4,
    /// Clear land, no fire.
    Land = 5,
    /// Too little valid background to decide.
    Unknown = 6,
    FireLow = 7,
    FireNominal = 8,
    FireHigh = 9,
}

impl MaskClass {
    pub const ALL: [MaskClass; 10] = [
        MaskClass::NotProcessed,
        MaskClass::Fill,
        MaskClass::Glint,
        MaskClass::Water,
        MaskClass::Cloud,
        MaskClass::Land,
        MaskClass::Unknown,
        MaskClass::FireLow,
        MaskClass::FireNominal,
        MaskClass::FireHigh,
    ];

    pub fn from_u8(v: u8) -> MaskClass {
        MaskClass::ALL
            .get(v as usize)
            .copied()
            .unwrap_or(MaskClass::NotProcessed)
    }

    pub fn is_fire(self) -> bool {
        self >= MaskClass::FireLow
    }

    pub fn name(self) -> &'static str {
        match self {
            MaskClass::NotProcessed => "not processed",
            MaskClass::Fill => "fill",
            MaskClass::Glint => "glint",
            MaskClass::Water => "water",
            MaskClass::Cloud => "cloud",
            MaskClass::Land => "clear land",
            MaskClass::Unknown => "unknown",
            MaskClass::FireLow => "fire (low)",
            MaskClass::FireNominal => "fire (nominal)",
            MaskClass::FireHigh => "fire (high)",
        }
    }
}

/// One detected fire pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct FirePixel {
    /// 0-based pixel indices.
    pub row: usize,
    pub col: usize,
    pub bt4_k: f32,
    pub bt5_k: f32,
    /// Fire radiative power, MW (MIR method against the window's background mean).
    pub frp_mw: f64,
    pub confidence: Confidence,
    pub day: bool,
    /// Mean BT4 of the valid background used for FRP, K (NaN for fixed-threshold fires
    /// without a usable window).
    pub background_bt4_k: f32,
}

/// Pixels of a scene by class: what the overpass saw. Rankings use `clear_land` to tell an
/// unobserved county from a clean one.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ObservationSummary {
    pub total: u64,
    pub not_processed: u64,
    pub fill: u64,
    pub glint: u64,
    pub water: u64,
    pub cloud: u64,
    /// Clear land including the fire pixels on it.
    pub clear_land: u64,
    pub unknown: u64,
    pub fire_low: u64,
    pub fire_nominal: u64,
    pub fire_high: u64,
    pub day_pixels: u64,
    pub night_pixels: u64,
}

impl ObservationSummary {
    /// The summary of pixel counts per class (`MaskClass as u8` index).
    pub fn from_counts(counts: [u64; 10], day_pixels: u64, night_pixels: u64) -> Self {
        let total = counts.iter().sum();
        let fires = counts[7] + counts[8] + counts[9];
        ObservationSummary {
            total,
            not_processed: counts[0],
            fill: counts[1],
            glint: counts[2],
            water: counts[3],
            cloud: counts[4],
            clear_land: counts[5] + fires,
            unknown: counts[6],
            fire_low: counts[7],
            fire_nominal: counts[8],
            fire_high: counts[9],
            day_pixels,
            night_pixels,
        }
    }

    /// Fires of all classes.
    pub fn fires(&self) -> u64 {
        self.fire_low + self.fire_nominal + self.fire_high
    }

    /// True when no pixel was observed (all fill or unprocessed).
    pub fn nothing_observed(&self) -> bool {
        self.total == self.fill + self.not_processed
    }
}

/// The detector's result for one scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Fire-mask class per pixel (`MaskClass as u8`), on 2 MiB pages like the bands.
    pub mask: BandBuf<u8>,
    /// Fire pixels in row-major order.
    pub fires: Vec<FirePixel>,
    pub summary: ObservationSummary,
}
