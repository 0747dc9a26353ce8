//! What a verdict photo tells: its exact identity (SHA-256), its look (a 64-bit difference hash
//! that survives re-encoding, resizing and small edits), and what its EXIF says about when and
//! where it was taken. Copied evidence is the practice this catches.

use chrono::{DateTime, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};

/// Errors reading a photo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhotoError {
    /// The upload is not an image we can decode (JPEG, PNG, WebP): send a photo.
    #[error("photo: not a JPEG, PNG or WebP image ({0})")]
    NotAnImage(String),
}

/// The fingerprint of one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoPrint {
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// Difference hash (dHash) of a 9×8 grey thumbnail.
    pub dhash: u64,
    /// EXIF facts when the photo carries them.
    pub exif: ExifFacts,
}

/// EXIF facts that a verdict can be checked against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifFacts {
    /// `DateTimeOriginal`, read as local time of the camera; see [`ExifFacts::taken_at_utc`].
    pub taken_at_local: Option<NaiveDateTime>,
    /// (lon, lat) from the GPS IFD, WGS84 degrees.
    pub position: Option<(f64, f64)>,
}

impl ExifFacts {
    /// The capture time in UTC, given the camera's UTC offset in hours (China: +8).
    pub fn taken_at_utc(&self, utc_offset_h: i32) -> Option<DateTime<Utc>> {
        self.taken_at_local
            .map(|t| (t - chrono::Duration::hours(utc_offset_h as i64)).and_utc())
    }
}

/// Fingerprints a photo; fails if the bytes are not a decodable image.
pub fn fingerprint(bytes: &[u8]) -> Result<PhotoPrint, PhotoError> {
    let img = image::load_from_memory(bytes).map_err(|e| PhotoError::NotAnImage(e.to_string()))?;
    Ok(PhotoPrint {
        sha256: sha256_hex(bytes),
        dhash: dhash(&img),
        exif: read_exif(bytes),
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// dHash: shrink to 9×8 grey, one bit per horizontal neighbour pair (left brighter than right).
pub fn dhash(img: &image::DynamicImage) -> u64 {
    let small = img
        .resize_exact(9, 8, image::imageops::FilterType::Triangle)
        .to_luma8();
    let mut h = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            let bit = small.get_pixel(x, y)[0] > small.get_pixel(x + 1, y)[0];
            h = (h << 1) | bit as u64;
        }
    }
    h
}

/// Bits that differ between two hashes.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

fn read_exif(bytes: &[u8]) -> ExifFacts {
    let Ok(ex) = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) else {
        return ExifFacts::default();
    };
    let taken_at_local = ex
        .get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)
        .or_else(|| ex.get_field(exif::Tag::DateTime, exif::In::PRIMARY))
        .and_then(|f| match &f.value {
            exif::Value::Ascii(v) if !v.is_empty() => {
                exif::DateTime::from_ascii(&v[0]).ok().and_then(|d| {
                    chrono::NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)?
                        .and_hms_opt(d.hour as u32, d.minute as u32, d.second as u32)
                })
            }
            _ => None,
        });
    let coord = |tag, reference| -> Option<f64> {
        let f = ex.get_field(tag, exif::In::PRIMARY)?;
        let exif::Value::Rational(v) = &f.value else {
            return None;
        };
        if v.len() < 3 {
            return None;
        }
        let deg = v[0].to_f64() + v[1].to_f64() / 60.0 + v[2].to_f64() / 3600.0;
        let r = ex.get_field(reference, exif::In::PRIMARY)?;
        let s = r.display_value().to_string();
        Some(if s.starts_with('S') || s.starts_with('W') {
            -deg
        } else {
            deg
        })
    };
    let position = match (
        coord(exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef),
        coord(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef),
    ) {
        (Some(lon), Some(lat)) => Some((lon, lat)),
        _ => None,
    };
    ExifFacts {
        taken_at_local,
        position,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A PNG of a field with a bright smoke plume centred at (cx, cy): rows of stubble that
    /// darken away from the plume.
    pub fn png(w: u32, h: u32, cx: u32, cy: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            let d = ((x as i64 - cx as i64).pow(2) + (y as i64 - cy as i64).pow(2)) as f64;
            let smoke = 255.0 * (-d / (w as f64 * h as f64 / 8.0)).exp();
            let stubble = if (x / 6 + y / 9) % 2 == 0 { 90.0 } else { 60.0 };
            let v = smoke.max(stubble) as u8;
            image::Rgb([v, v.saturating_sub(10), v.saturating_sub(30)])
        });
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn re_encoded_and_resized_copies_hash_close() {
        let a = fingerprint(&png(320, 240, 100, 80)).unwrap();
        // The same picture, resized and re-encoded as JPEG: different bytes, same look.
        let img = image::load_from_memory(&png(320, 240, 100, 80))
            .unwrap()
            .resize(200, 150, image::imageops::FilterType::Lanczos3);
        let mut jpg = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut jpg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        let b = fingerprint(&jpg).unwrap();
        assert_ne!(a.sha256, b.sha256);
        assert!(
            hamming(a.dhash, b.dhash) <= 6,
            "{}",
            hamming(a.dhash, b.dhash)
        );
        // A different scene hashes far away.
        let c = fingerprint(&png(320, 240, 250, 200)).unwrap();
        assert!(
            hamming(a.dhash, c.dhash) > 10,
            "{}",
            hamming(a.dhash, c.dhash)
        );
    }

    #[test]
    fn not_an_image_is_refused() {
        let e = fingerprint(b"%PDF-1.4 not a photo").unwrap_err();
        assert!(e.to_string().contains("not a JPEG"), "{e}");
    }
}
