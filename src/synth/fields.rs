//! The smooth random fields behind a scene's texture: where lakes, woods, bare soil and cloud
//! decks are, and how temperature and greenness vary over the plain.
//!
//! Each field is seeded fBm ([`super::noise::fbm`]). Two ways to read them give bit-identical
//! values: [`PixelFields::at`] for one pixel (truth, random fire placement, tests) and
//! [`RowFields`] for a whole row at a time, which hashes each lattice cell once per row and is
//! what makes a full granule fast to generate.

use super::noise::{fbm, fbm_row, mix64};

/// The fields, in order: (sub-seed, largest feature in pixels, octaves).
const SPECS: [(u64, f64, u32); 9] = [
    (1, 45.0, 3),  // lakes
    (3, 28.0, 3),  // forest
    (4, 16.0, 3),  // bright soil
    (7, 60.0, 4),  // cloud decks
    (11, 70.0, 3), // regional temperature
    (12, 2.5, 2),  // field-to-field temperature
    (13, 25.0, 3), // cloud-top temperature
    (14, 6.0, 3),  // cropland greenness
    (15, 5.0, 2),  // brightness
];
const CLOUD: usize = 3;
const CLOUD_TEMP: usize = 6;

/// Field values (each in [0, 1)) at one pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelFields {
    pub lake: f64,
    pub forest: f64,
    pub soil: f64,
    pub cloud: f64,
    pub temp_regional: f64,
    pub temp_fields: f64,
    pub cloud_temp: f64,
    pub greenness: f64,
    pub brightness: f64,
}

fn field_seed(seed: u64, sub: u64) -> u64 {
    mix64(seed ^ sub.wrapping_mul(0xA24B_AED4_963E_E407))
}

impl PixelFields {
    fn from_array(v: [f64; 9]) -> Self {
        PixelFields {
            lake: v[0],
            forest: v[1],
            soil: v[2],
            cloud: v[3],
            temp_regional: v[4],
            temp_fields: v[5],
            cloud_temp: v[6],
            greenness: v[7],
            brightness: v[8],
        }
    }

    /// The fields at pixel (row, col).
    pub fn at(seed: u64, row: usize, col: usize) -> Self {
        Self::from_array(SPECS.map(|(sub, scale, octaves)| {
            fbm(
                field_seed(seed, sub),
                row as f64,
                col as f64,
                scale,
                octaves,
            )
        }))
    }
}

/// The fields along one row.
pub struct RowFields {
    values: [Vec<f64>; 9],
}

impl RowFields {
    /// Evaluates row `row` for columns `0..cols`. Without clouds the two cloud fields are not
    /// computed (they read 0; nothing uses them when the cloud cover is 0).
    pub fn new(seed: u64, row: usize, cols: usize, clouds: bool) -> Self {
        let mut values: [Vec<f64>; 9] = Default::default();
        for (i, ((sub, scale, octaves), out)) in SPECS.iter().zip(values.iter_mut()).enumerate() {
            if !clouds && (i == CLOUD || i == CLOUD_TEMP) {
                *out = vec![0.0; cols];
            } else {
                fbm_row(field_seed(seed, *sub), row, cols, *scale, *octaves, out);
            }
        }
        RowFields { values }
    }

    /// The fields at column `col`.
    pub fn get(&self, col: usize) -> PixelFields {
        PixelFields::from_array(std::array::from_fn(|i| self.values[i][col]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_and_pixel_evaluation_agree_bit_for_bit() {
        for row in [0, 5, 123] {
            let r = RowFields::new(42, row, 300, true);
            for col in (0..300).step_by(7) {
                assert_eq!(r.get(col), PixelFields::at(42, row, col), "({row}, {col})");
            }
        }
    }
}
