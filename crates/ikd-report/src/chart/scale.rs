//! The reporting scale as a band of levels, with a marker at a value and
//! a whisker for its 95% interval: where an index stands among the levels.

use super::colour::{level_colour, text_on};
use super::r2;
use serde::Serialize;

pub const WIDTH: f64 = 640.0;
/// Room left and right so the marker's label fits at the ends of the scale.
const PAD: f64 = 20.0;

#[derive(Debug, Serialize)]
pub struct ScaleBar {
    pub width: f64,
    pub bands: Vec<Band>,
    pub ticks: Vec<Tick>,
    pub marker: Option<Marker>,
    pub interval: Option<(f64, f64)>,
}

#[derive(Debug, Serialize)]
pub struct Band {
    pub code: String,
    pub name: String,
    pub x: f64,
    pub w: f64,
    /// Centre of the band, where its name is written.
    pub text_x: f64,
    pub colour: String,
    pub text_colour: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Tick {
    pub x: f64,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct Marker {
    pub x: f64,
    pub value: f64,
    pub label: String,
}

/// Horizontal position of `value` on `[min, max]`, clamped to the scale.
pub fn x_of(value: f64, min: f64, max: f64) -> f64 {
    PAD + ((value - min) / (max - min)).clamp(0.0, 1.0) * (WIDTH - 2.0 * PAD)
}

/// Lays out the scale: `levels` are (code, name, min, max) lowest first;
/// `value` is marked with `label`, `interval` drawn as a whisker.
pub fn scale_bar(
    levels: &[(&str, &str, f64, f64)],
    min: f64,
    max: f64,
    value: Option<(f64, String)>,
    interval: Option<(f64, f64)>,
    tick_label: impl Fn(f64) -> String,
) -> ScaleBar {
    let bands = levels
        .iter()
        .enumerate()
        .map(|(k, (code, name, lo, hi))| {
            let colour = level_colour(k, levels.len());
            let x = x_of(*lo, min, max);
            let w = x_of(*hi, min, max) - x;
            Band {
                code: (*code).to_owned(),
                name: (*name).to_owned(),
                x: r2(x),
                w: r2(w),
                text_x: r2(x + w / 2.0),
                text_colour: text_on(&colour),
                colour,
            }
        })
        .collect();
    let mut bounds: Vec<f64> = levels.iter().map(|l| l.2).collect();
    bounds.push(levels.last().map_or(max, |l| l.3));
    let ticks = bounds
        .into_iter()
        .map(|v| Tick {
            x: r2(x_of(v, min, max)),
            label: tick_label(v),
        })
        .collect();
    ScaleBar {
        width: WIDTH,
        bands,
        ticks,
        marker: value.map(|(v, label)| Marker {
            x: r2(x_of(v, min, max)),
            value: v,
            label,
        }),
        interval: interval.map(|(lo, hi)| (r2(x_of(lo, min, max)), r2(x_of(hi, min, max)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [(&str, &str, f64, f64); 2] =
        [("lo", "Low", 0.0, 40.0), ("hi", "High", 40.0, 100.0)];

    #[test]
    fn values_map_linearly_inside_the_padding() {
        // 600 units of scale between x = 20 and x = 620: 50 → 320, 0 → 20, 100 → 620.
        assert_eq!(x_of(50.0, 0.0, 100.0), 320.0);
        assert_eq!(x_of(0.0, 0.0, 100.0), 20.0);
        assert_eq!(x_of(100.0, 0.0, 100.0), 620.0);
        assert_eq!(x_of(120.0, 0.0, 100.0), 620.0);
    }

    #[test]
    fn bands_ticks_marker_and_whisker() {
        let bar = scale_bar(
            &LEVELS,
            0.0,
            100.0,
            Some((58.1, "58.1".into())),
            Some((54.18, 62.02)),
            |v| format!("{v}"),
        );
        // Band "lo": 0–40 → x 20, width 240; "hi": x 260, width 360.
        assert_eq!((bar.bands[0].x, bar.bands[0].w), (20.0, 240.0));
        assert_eq!((bar.bands[1].x, bar.bands[1].w), (260.0, 360.0));
        assert_eq!(bar.ticks.len(), 3);
        assert_eq!(bar.ticks[2].x, 620.0);
        // 58.1 → 20 + 0.581 · 600 = 368.6; the whisker 54.18–62.02 → 345.08–392.12.
        assert_eq!(bar.marker.as_ref().map(|m| m.x), Some(368.6));
        assert_eq!(bar.interval, Some((345.08, 392.12)));
    }
}
