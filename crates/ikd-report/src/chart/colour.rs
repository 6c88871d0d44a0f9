//! Colours: one diverging ramp (ColorBrewer RdYlBu, readable with the common
//! colour-vision deficiencies and in greyscale print) for levels, heatmap
//! cells and bands, and the text colour that stays legible on each.

/// RdYlBu, 5 classes: low (red) to high (blue).
const STOPS: [(u8, u8, u8); 5] = [
    (0xd7, 0x19, 0x1c),
    (0xfd, 0xae, 0x61),
    (0xff, 0xff, 0xbf),
    (0xab, 0xd9, 0xe9),
    (0x2c, 0x7b, 0xb6),
];

/// The ramp's colour at `t` in 0–1 (clamped), as `#rrggbb`: linear
/// interpolation between neighbouring stops.
pub fn ramp(t: f64) -> String {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let pos = t * (STOPS.len() - 1) as f64;
    let lower = (pos.floor() as usize).min(STOPS.len() - 2);
    let frac = pos - lower as f64;
    let (a, b) = (STOPS[lower], STOPS[lower + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * frac).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// The colour of level `k` of `count` (lowest first), evenly spread over the ramp.
pub fn level_colour(k: usize, count: usize) -> String {
    if count <= 1 {
        return ramp(1.0);
    }
    ramp(k as f64 / (count - 1) as f64)
}

/// The text colour of the two (`#111111`, white) with the higher WCAG
/// contrast ratio on `background` (`#rrggbb`). Comparing the ratios, not a
/// luminance threshold, matters near the middle: the ramp's blue `#2c7bb6`
/// gives 4.2:1 with `#111111` but 4.6:1 with white (axe found it).
pub fn text_on(background: &str) -> &'static str {
    let (dark, light) = ("#111111", "#ffffff");
    let on = luminance(background);
    let ratio = |text: &str| {
        let l = luminance(text);
        (on.max(l) + 0.05) / (on.min(l) + 0.05)
    };
    if ratio(dark) > ratio(light) {
        dark
    } else {
        light
    }
}

/// WCAG 2 relative luminance of `#rrggbb`.
fn luminance(colour: &str) -> f64 {
    let channel = |i: usize| {
        let v = colour
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, |v| f64::from(v) / 255.0);
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_hits_its_stops_and_interpolates_between_them() {
        assert_eq!(ramp(0.0), "#d7191c");
        assert_eq!(ramp(0.5), "#ffffbf");
        assert_eq!(ramp(1.0), "#2c7bb6");
        // Halfway between the first two stops (t = 0.125):
        // (215+253)/2 = 234, (25+174)/2 = 99.5 → 100, (28+97)/2 = 62.5 → 63.
        assert_eq!(ramp(0.125), "#ea643f");
        assert_eq!(ramp(-3.0), ramp(0.0));
        assert_eq!(ramp(7.0), ramp(1.0));
    }

    #[test]
    fn five_levels_take_the_five_stops() {
        let colours: Vec<String> = (0..5).map(|k| level_colour(k, 5)).collect();
        assert_eq!(
            colours,
            ["#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6"]
        );
    }

    #[test]
    fn text_stays_legible() {
        assert_eq!(text_on("#ffffbf"), "#111111");
        // Luminance 0.1808: 4.15 with #111111 (luminance 0.0056), 4.55 with
        // white — pure black would give 4.62, but the text is #111111.
        assert_eq!(text_on("#2c7bb6"), "#ffffff");
        // 0.1523: 5.19 with white.
        assert_eq!(text_on("#d7191c"), "#ffffff");
        assert_eq!(text_on("#000000"), "#ffffff");
    }
}
