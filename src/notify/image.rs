//! The verdict photo as a WeCom group robot `image` message, pure.
//!
//! A county group decides on a verdict by looking at the photo. WeCom robots take an image
//! inline, not by URL (our server is usually not reachable from WeCom's): `{"msgtype":"image",
//! "image":{"base64":..,"md5":..}}`, JPG or PNG, at most 2 MB before encoding, the MD5 of the
//! raw bytes as a checksum (WeCom group robot documentation, "图片类型"). DingTalk robots take
//! images only by public URL, so they get none. MD5 and base64 come from RustCrypto's `md-5` and
//! the `base64` crate (both already built for the PostgreSQL client); MD5 is only WeCom's
//! transfer checksum, never used for security.

use base64::Engine as _;
use md5::Digest as _;
use serde_json::{json, Value};

/// WeCom's limit on an image before base64 encoding, bytes.
pub const WECOM_IMAGE_MAX_BYTES: usize = 2 * 1024 * 1024;

/// Why a photo cannot go as a WeCom image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// WeCom refuses images over 2 MB; the photo stays viewable in the review view.
    #[error("the photo is {bytes} bytes, over WeCom's image limit of {WECOM_IMAGE_MAX_BYTES}")]
    TooLarge { bytes: usize },
    /// WeCom takes JPG and PNG only.
    #[error("the photo is neither JPEG nor PNG")]
    NotJpegOrPng,
}

/// The robot body for `photo` (its raw bytes).
pub fn wecom_image(photo: &[u8]) -> Result<Value, ImageError> {
    if photo.len() > WECOM_IMAGE_MAX_BYTES {
        return Err(ImageError::TooLarge { bytes: photo.len() });
    }
    let jpeg = photo.starts_with(&[0xFF, 0xD8, 0xFF]);
    let png = photo.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
    if !(jpeg || png) {
        return Err(ImageError::NotJpegOrPng);
    }
    Ok(json!({
        "msgtype": "image",
        "image": {"base64": base64(photo), "md5": md5_hex(photo)},
    }))
}

/// Standard base64 with padding (RFC 4648 §4), as WeCom expects.
pub fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// MD5 of `data` as 32 lowercase hex digits (RFC 1321).
pub fn md5_hex(data: &[u8]) -> String {
    md5::Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_the_rfc_1321_test_suite() {
        for (input, want) in [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ] {
            assert_eq!(md5_hex(input.as_bytes()), want, "md5({input:?})");
        }
    }

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want, "base64({input:?})");
        }
        assert_eq!(base64(&[0xFB, 0xFF]), "+/8=");
    }

    #[test]
    fn only_jpeg_and_png_up_to_two_megabytes_become_images() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
        let v = wecom_image(&png).unwrap();
        assert_eq!(v["msgtype"], "image");
        assert_eq!(v["image"]["base64"], base64(&png));
        assert_eq!(v["image"]["md5"], md5_hex(&png));
        assert_eq!(wecom_image(b"GIF89a"), Err(ImageError::NotJpegOrPng));
        let mut big = vec![0xFF, 0xD8, 0xFF];
        big.resize(WECOM_IMAGE_MAX_BYTES + 1, 0);
        assert_eq!(
            wecom_image(&big),
            Err(ImageError::TooLarge {
                bytes: WECOM_IMAGE_MAX_BYTES + 1
            })
        );
        big.pop();
        assert!(wecom_image(&big).is_ok());
    }

    /// The robot bodies the hand-written MD5 and base64 produced before the crates replaced them
    /// (checked with Python's hashlib and base64 too): the messages WeCom gets are unchanged.
    #[test]
    fn image_messages_are_unchanged() {
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        png.extend((0..192u32).map(|i| (i * 37 + 11) as u8));
        let mut jpeg = vec![0xFF, 0xD8, 0xFF];
        jpeg.extend((0..196u32).map(|i| (i * i + 5) as u8));
        assert_eq!(
            wecom_image(&png).unwrap().to_string(),
            r#"{"image":{"base64":"iVBORw0KGgoLMFV6n8TpDjNYfaLH7BE2W4Clyu8UOV6DqM3yFzxhhqvQ9Ro/ZImu0/gdQmeMsdb7IEVqj7TZ/iNIbZK33AEmS3CVut8EKU5zmL3iByxRdpvA5QovVHmew+gNMld8ocbrEDVaf6TJ7hM4XYKnzPEWO2CFqs/0GT5jiK3S9xxBZouw1fofRGmOs9j9IkdskbbbACVKb5S53gMoTXKXvOEGK1B1mr/kCS5TeJ3C5wwxVnugxeoPNFl+o8jtEjdcgaY=","md5":"6f8ba2d45b09fd4c96e59d95ca6887f4"},"msgtype":"image"}"#
        );
        assert_eq!(
            wecom_image(&jpeg).unwrap().to_string(),
            r#"{"image":{"base64":"/9j/BQYJDhUeKTZFVml+la7J5gUmSW6VvukWRXap3hVOicYFRonOFV6p9kWW6T6V7kmmBWbJLpX+adZFtimeFY4JhgWGCY4Vnim2RdZp/pUuyWYFpknulT7plkX2qV4VzolGBcaJThXeqXZFFum+lW5JJgXmya6VfmlWRTYpHhUOCQYFBgkOFR4pNkVWaX6VrsnmBSZJbpW+6RZFdqneFU6JxgVGic4VXqn2RZbpPpXuSaYFZskulf5p1kW2KZ4VjgmGBYYJjg==","md5":"704a7117ec1a5829c456d6e43cc9000d"},"msgtype":"image"}"#
        );
    }
}
