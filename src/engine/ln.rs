//! The natural logarithm the samplers draw through: an exponential draw is one
//! logarithm, and a run makes one or more a message, so its cost shows in every run.
//!
//! `libm::log` is exact to the last bit or so but spends a division and a long
//! polynomial on it. This one looks the leading seven bits of the mantissa up in a
//! table of 128 logarithms and reciprocals (built once, with `libm`), so what is left is
//! a logarithm of `1 + r` with `|r| <= 2^-8`: seven terms of its series, no division.
//! Every step is an IEEE `+ - *` on `f64` (Rust never fuses a multiply and an add), so
//! every machine computes the same bits; the pinned vectors below say which.
//!
//! Accuracy: within one unit in the last place of `libm::log` (tested on every binade
//! and on the inputs the samplers give it); a drawn duration is then rounded to whole
//! nanoseconds.

use std::sync::LazyLock;

/// Mantissa bits the table is indexed by.
const INDEX_BITS: u32 = 7;
const ENTRIES: usize = 1 << INDEX_BITS;
/// From this index on, a mantissa `m` is taken as `(m / 2) * 2`, so the reduced
/// argument lies in about [0.707, 1.414) and no `ln 2` cancels against the table.
const HALVED_FROM: usize = 53;

/// ln 2, split so that `e * LN2_HI` is exact for any exponent (fdlibm's constants).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

/// Per table entry: the centre `c` of the entry's span of mantissas, `1 / c`, and the
/// logarithm of `c` (of `c / 2` from `HALVED_FROM` on).
struct Table {
    centre: [f64; ENTRIES],
    inverse: [f64; ENTRIES],
    log: [f64; ENTRIES],
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut t = Table { centre: [0.0; ENTRIES], inverse: [0.0; ENTRIES], log: [0.0; ENTRIES] };
    for i in 0..ENTRIES {
        // The centre of [1 + i/128, 1 + (i+1)/128): eight fraction bits, so exact.
        let centre = 1.0 + (2 * i + 1) as f64 / (2 * ENTRIES) as f64;
        t.centre[i] = centre;
        t.inverse[i] = 1.0 / centre;
        t.log[i] = libm::log(if i >= HALVED_FROM { centre / 2.0 } else { centre });
    }
    t
});

/// `ln(1 + r) - r` for `|r| <= 2^-8`, to the seventh power (the eighth is below
/// 2^-67), evaluated in pairs so the multiplications overlap.
#[inline(always)]
fn tail_near_centre(r: f64) -> f64 {
    let r2 = r * r;
    let low = -1.0 / 2.0 + r * (1.0 / 3.0);
    let mid = -1.0 / 4.0 + r * (1.0 / 5.0);
    let high = -1.0 / 6.0 + r * (1.0 / 7.0);
    r2 * (low + r2 * (mid + r2 * high))
}

/// `ln(1 + r) - r` for `|r| < 2^-7`, to the ninth power: relative to `r`, the tenth
/// is below 2^-66.
fn tail_near_one(r: f64) -> f64 {
    const C: [f64; 8] = [
        -1.0 / 2.0,
        1.0 / 3.0,
        -1.0 / 4.0,
        1.0 / 5.0,
        -1.0 / 6.0,
        1.0 / 7.0,
        -1.0 / 8.0,
        1.0 / 9.0,
    ];
    let mut p = C[7];
    for &c in C[..7].iter().rev() {
        p = p * r + c;
    }
    p * r * r
}

/// The natural logarithm of `x`: `-inf` at 0, NaN below 0 or for NaN, `inf` at `inf`.
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    if x < f64::MIN_POSITIVE {
        // Subnormal: scale into the normal range first (2^54 is exact).
        return ln(x * (1u64 << 54) as f64) - 54.0 * LN2_HI - 54.0 * LN2_LO;
    }
    // Near 1 the table's `ln c` would cancel against the series: take the series of
    // `x - 1` itself (exact here) instead.
    if (1.0 - 1.0 / 128.0..1.0 + 1.0 / 128.0).contains(&x) {
        let r = x - 1.0;
        return r + tail_near_one(r);
    }
    let bits = x.to_bits();
    let fraction = bits & ((1 << 52) - 1);
    let index = (fraction >> (52 - INDEX_BITS)) as usize;
    let mut exponent = (bits >> 52) as i64 - 1023;
    if index >= HALVED_FROM {
        exponent += 1;
    }
    let mantissa = f64::from_bits(fraction | (1023 << 52));
    let table = &*TABLE;
    // `mantissa - centre` is exact (one binade, centre has eight fraction bits).
    let r = (mantissa - table.centre[index]) * table.inverse[index];
    let e = exponent as f64;
    e * LN2_HI + (table.log[index] + (r + tail_near_centre(r) + e * LN2_LO))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs and the exact bits `ln` gives for them, on every platform.
    const PINNED: [(f64, u64); 12] = [
        (1e-300, 0xc085963447f87fb5),
        (2e-53, 0xc05e5601d8e66078),
        (0.001, 0xc01ba18a998fffa0),
        (0.1, 0xc0026bb1bbb55515),
        (0.5, 0xbfe62e42fefa39ef),
        (0.707, 0xbfd630bc6e7aed9c),
        (0.999, 0xbf5064670d979b73),
        (1.0 - 1.0 / 1024.0, 0xbf50020055655889),
        (1.5, 0x3fd9f323ecbf984c),
        (std::f64::consts::E, 0x3ff0000000000000),
        (1000.0, 0x401ba18a998fffa0),
        (1.7e308, 0x40862dd08fdc6f88),
    ];

    #[test]
    fn pinned_vectors_are_bit_exact() {
        for (x, bits) in PINNED {
            let y = ln(x);
            assert_eq!(y.to_bits(), bits, "ln({x:e}) = {y:e} ({:#018x})", y.to_bits());
        }
    }

    #[test]
    fn agrees_with_libm_to_the_last_bits() {
        // How far apart, in units in the last place of the result.
        let mut worst_ulps = 0u64;
        let mut check = |x: f64| {
            let (ours, exact) = (ln(x), libm::log(x));
            let ulps = ours.to_bits().abs_diff(exact.to_bits());
            assert!(ours.signum() == exact.signum() || exact == 0.0, "ln({x:e})");
            worst_ulps = worst_ulps.max(ulps);
        };
        // Every draw an exponential sampler makes is ln(1 - k 2^-53): sweep k over
        // each binade, and everything else over a range of magnitudes.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let shift = (state % 64) as i32;
            check(1.0 - u);
            check(1.0 - u * libm::exp2(-f64::from(shift)));
            check(f64::from_bits((state >> 2) % 0x7fe0_0000_0000_0000 + (1 << 52)));
        }
        for k in 1..5000u64 {
            check(1.0 - k as f64 / (1u64 << 53) as f64);
            check(1.0 + k as f64 * f64::EPSILON);
            check(1.0 - 1.0 / 128.0 - k as f64 * f64::EPSILON);
            check(1.0 + 1.0 / 128.0 + k as f64 * f64::EPSILON);
            check(k as f64 * f64::MIN_POSITIVE * f64::EPSILON);
        }
        assert!(worst_ulps <= 1, "worst difference {worst_ulps} ulps");
    }

    #[test]
    fn edge_values() {
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert!(ln(-1.0).is_nan() && ln(f64::NAN).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!((ln(f64::from_bits(1)) - libm::log(f64::from_bits(1))).abs() < 1e-12);
    }
}
