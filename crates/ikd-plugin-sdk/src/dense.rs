//! Dense arrays on the wire: little-endian fixed-width values in a `bytes`
//! field. On little-endian machines (all the platform targets) the wire form
//! is the memory form, so encoding and decoding is one `memcpy`: a batch of
//! 4096 respondents × 50 items crosses the plugin boundary in well under a
//! millisecond.

use crate::proto::PluginError;

/// A fixed-width number that travels in a dense array.
///
/// # Safety
/// Implemented only for plain numbers whose every bit pattern is a valid value.
pub unsafe trait Dense: Copy + Default {
    const WIDTH: usize = std::mem::size_of::<Self>();
    fn to_le(self) -> Self;
}

macro_rules! dense {
    ($($t:ty => $to_le:expr),*) => {$(
        // SAFETY: plain numbers; every bit pattern is valid.
        unsafe impl Dense for $t {
            fn to_le(self) -> Self {
                $to_le(self)
            }
        }
    )*};
}
dense!(
    f64 => |x: f64| f64::from_bits(x.to_bits().to_le()),
    u32 => u32::to_le,
    i32 => i32::to_le,
    u8 => |x| x
);

/// Packs values for a `bytes` field.
pub fn encode<T: Dense>(values: &[T]) -> Vec<u8> {
    if cfg!(target_endian = "big") {
        let swapped: Vec<T> = values.iter().map(|v| v.to_le()).collect();
        return memory_of(&swapped);
    }
    memory_of(values)
}

/// The bytes of values as they lie in memory.
fn memory_of<T: Dense>(values: &[T]) -> Vec<u8> {
    // SAFETY: `T` is a plain number (see `Dense`): its memory is initialised bytes.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    }
    .to_vec()
}

/// Unpacks a `bytes` field holding exactly `len` values; `field` names it in the error.
pub fn decode<T: Dense>(bytes: &[u8], len: usize, field: &str) -> Result<Vec<T>, PluginError> {
    check_len::<T>(bytes, len, field)?;
    let mut values = vec![T::default(); len];
    // SAFETY: `values` has room for exactly `bytes.len()` bytes, the regions do
    // not overlap, and every bit pattern is a valid `T` (see `Dense`).
    unsafe {
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            values.as_mut_ptr().cast::<u8>(),
            bytes.len(),
        )
    };
    if cfg!(target_endian = "big") {
        values.iter_mut().for_each(|v| *v = v.to_le());
    }
    Ok(values)
}

/// Replaces the contents of `values` with the `len` values in `bytes`,
/// reusing its allocation (a batch's buffers are the same size every time).
pub fn decode_into<T: Dense>(
    bytes: &[u8],
    len: usize,
    field: &str,
    values: &mut Vec<T>,
) -> Result<(), PluginError> {
    check_len::<T>(bytes, len, field)?;
    values.clear();
    values.resize(len, T::default());
    // SAFETY: as in `decode`.
    unsafe {
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            values.as_mut_ptr().cast::<u8>(),
            bytes.len(),
        )
    };
    if cfg!(target_endian = "big") {
        values.iter_mut().for_each(|v| *v = v.to_le());
    }
    Ok(())
}

/// Appends a `bytes` field (`tag`) holding `values` to a protobuf message being encoded.
pub fn put_field<T: Dense>(tag: u32, values: &[T], out: &mut Vec<u8>) {
    if values.is_empty() {
        return;
    }
    prost::encoding::encode_key(tag, prost::encoding::WireType::LengthDelimited, out);
    prost::encoding::encode_varint(std::mem::size_of_val(values) as u64, out);
    if cfg!(target_endian = "big") {
        out.extend(values.iter().flat_map(|v| memory_of(&[v.to_le()])));
    } else {
        // SAFETY: as in `memory_of`.
        out.extend_from_slice(unsafe {
            std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
        });
    }
}

/// The byte length must be `len` values; a `len` whose byte size overflows
/// (a response claiming 2³¹ × 2³⁰ cells, found by fuzzing) is refused, not multiplied.
fn check_len<T: Dense>(bytes: &[u8], len: usize, field: &str) -> Result<(), PluginError> {
    if len.checked_mul(T::WIDTH) == Some(bytes.len()) {
        Ok(())
    } else {
        Err(PluginError::msg(format!(
            "field '{field}' holds {} bytes, expected {len} values of {} bytes",
            bytes.len(),
            T::WIDTH
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_lengths_are_checked() {
        let xs = [1.5, f64::NAN, -0.0];
        assert_eq!(encode(&[1.5f64])[..], 1.5f64.to_le_bytes());
        let back: Vec<f64> = decode(&encode(&xs), 3, "x").unwrap();
        assert_eq!(back[0], 1.5);
        assert!(back[1].is_nan());
        let levels: Vec<i32> = decode(&encode(&[-1i32, 4]), 2, "levels").unwrap();
        assert_eq!(levels, [-1, 4]);
        assert_eq!(encode(&[258u32]), [2, 1, 0, 0]);
        let err = decode::<u32>(&[0, 0, 0], 1, "offsets").unwrap_err();
        assert!(err.message.contains("field 'offsets' holds 3 bytes"));
    }
}
