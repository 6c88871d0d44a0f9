//! Radar (spider) chart geometry: one axis per domain, the first pointing up
//! and the others clockwise (axis k at −90° + k·360°/K), a score s on the
//! reporting scale [min, max] at radius (s − min)/(max − min)·R from the
//! centre. Rings mark the level boundaries.

use super::{r2, wrap};
use serde::Serialize;

/// Canvas and radius in SVG user units; the page scales the whole drawing.
pub const WIDTH: f64 = 600.0;
pub const HEIGHT: f64 = 400.0;
pub const CX: f64 = 300.0;
pub const CY: f64 = 200.0;
pub const R: f64 = 140.0;
/// Distance from the end of an axis to its label.
const LABEL_GAP: f64 = 14.0;
/// Label lines, for the 17-unit font of the stylesheet.
const LINE_HEIGHT: f64 = 18.0;
/// Characters per label line.
const WRAP: usize = 12;

/// What to draw: axes (code, label), series and the scale.
pub struct RadarSpec<'a> {
    pub axes: Vec<(&'a str, &'a str)>,
    pub series: Vec<SeriesSpec>,
    pub min: f64,
    pub max: f64,
    /// Values of the rings (e.g. the level boundaries), each with its label.
    pub rings: Vec<(f64, String)>,
}

/// One series: a value per axis (`None` where there is none).
pub struct SeriesSpec {
    /// Stable key for styling and tests (`person`, `unit`, `parent`, `all`).
    pub key: String,
    pub name: String,
    pub values: Vec<Option<f64>>,
    /// Each value as the reader sees it (same length as `values`).
    pub labels: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Radar {
    pub width: f64,
    pub height: f64,
    pub cx: f64,
    pub cy: f64,
    pub r: f64,
    pub min: f64,
    pub max: f64,
    pub axes: Vec<Axis>,
    pub rings: Vec<Ring>,
    pub series: Vec<Series>,
}

#[derive(Debug, Serialize)]
pub struct Axis {
    pub code: String,
    pub label: String,
    /// End of the axis line (at radius R).
    pub x: f64,
    pub y: f64,
    pub anchor: &'static str,
    /// Label lines with their positions.
    pub lines: Vec<Line>,
}

#[derive(Debug, Serialize)]
pub struct Line {
    pub text: String,
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Serialize)]
pub struct Ring {
    pub value: f64,
    pub label: String,
    /// Polygon points `x,y x,y ...`.
    pub points: String,
    /// Where the ring's label sits: half way between the first two axes,
    /// away from the points plotted on the axes.
    pub lx: f64,
    pub ly: f64,
}

#[derive(Debug, Serialize)]
pub struct Series {
    pub key: String,
    pub name: String,
    /// Path data: a closed polygon when every value is present, otherwise the
    /// segments between neighbouring present values (a missing value is not 0).
    pub path: String,
    pub closed: bool,
    pub points: Vec<Point>,
}

#[derive(Debug, Serialize)]
pub struct Point {
    pub domain: String,
    pub score: f64,
    pub label: String,
    pub x: f64,
    pub y: f64,
}

/// The angle of axis `k` of `count`, in radians (screen coordinates, y down).
pub fn angle(k: usize, count: usize) -> f64 {
    (-90.0 + k as f64 * 360.0 / count.max(1) as f64).to_radians()
}

/// Where a value sits on axis `k` of `count`: at (value − min)/(max − min)·R
/// from the centre, clamped to the chart.
pub fn position(value: f64, k: usize, count: usize, min: f64, max: f64) -> (f64, f64) {
    let fraction = ((value - min) / (max - min)).clamp(0.0, 1.0);
    let (sin, cos) = angle(k, count).sin_cos();
    (CX + fraction * R * cos, CY + fraction * R * sin)
}

/// Lays out the chart.
pub fn radar(spec: &RadarSpec<'_>) -> Radar {
    let count = spec.axes.len();
    let axes = spec
        .axes
        .iter()
        .enumerate()
        .map(|(k, (code, label))| axis(k, count, code, label))
        .collect();
    let rings = spec
        .rings
        .iter()
        .map(|(value, label)| {
            let points: Vec<String> = (0..count)
                .map(|k| {
                    let (x, y) = position(*value, k, count, spec.min, spec.max);
                    format!("{},{}", r2(x), r2(y))
                })
                .collect();
            let (x0, y0) = position(*value, 0, count, spec.min, spec.max);
            let (x1, y1) = position(*value, 1 % count.max(1), count, spec.min, spec.max);
            Ring {
                value: *value,
                label: label.clone(),
                points: points.join(" "),
                lx: r2((x0 + x1) / 2.0 + 2.0),
                ly: r2((y0 + y1) / 2.0 - 2.0),
            }
        })
        .collect();
    let codes: Vec<&str> = spec.axes.iter().map(|(code, _)| *code).collect();
    let series = spec
        .series
        .iter()
        .map(|s| series(s, &codes, spec.min, spec.max))
        .collect();
    Radar {
        width: WIDTH,
        height: HEIGHT,
        cx: CX,
        cy: CY,
        r: R,
        min: spec.min,
        max: spec.max,
        axes,
        rings,
        series,
    }
}

fn axis(k: usize, count: usize, code: &str, label: &str) -> Axis {
    let (sin, cos) = angle(k, count).sin_cos();
    let lx = CX + (R + LABEL_GAP) * cos;
    let ly = CY + (R + LABEL_GAP) * sin;
    let anchor = if cos.abs() < 0.2 {
        "middle"
    } else if cos > 0.0 {
        "start"
    } else {
        "end"
    };
    // The label block hangs above an axis pointing up, below one pointing
    // down, and is centred on a horizontal one.
    let texts = wrap(label, WRAP);
    let block = texts.len() as f64 * LINE_HEIGHT;
    let top = ly - block * (1.0 - sin) / 2.0;
    let lines = texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| Line {
            text,
            x: r2(lx),
            y: r2(top + LINE_HEIGHT * (i as f64 + 0.8)),
        })
        .collect();
    Axis {
        code: code.to_owned(),
        label: label.to_owned(),
        x: r2(CX + R * cos),
        y: r2(CY + R * sin),
        anchor,
        lines,
    }
}

fn series(spec: &SeriesSpec, codes: &[&str], min: f64, max: f64) -> Series {
    let count = codes.len();
    let at: Vec<Option<(f64, f64)>> = (0..count)
        .map(|k| {
            spec.values
                .get(k)
                .copied()
                .flatten()
                .map(|v| position(v, k, count, min, max))
        })
        .collect();
    let xy = |(x, y): (f64, f64)| format!("{} {}", r2(x), r2(y));
    let closed = count > 0 && at.iter().all(Option::is_some);
    let path = if closed {
        let mut parts: Vec<String> = at.iter().flatten().map(|&p| xy(p)).collect();
        parts[0] = format!("M {}", parts[0]);
        format!("{} Z", parts.join(" L "))
    } else {
        (0..count)
            .filter_map(|k| match (at[k], at[(k + 1) % count]) {
                (Some(a), Some(b)) if count > 1 => Some(format!("M {} L {}", xy(a), xy(b))),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let points = at
        .iter()
        .enumerate()
        .filter_map(|(k, p)| {
            let (x, y) = (*p)?;
            Some(Point {
                domain: codes[k].to_owned(),
                score: spec.values[k]?,
                label: spec.labels.get(k).cloned().unwrap_or_default(),
                x: r2(x),
                y: r2(y),
            })
        })
        .collect();
    Series {
        key: spec.key.clone(),
        name: spec.name.clone(),
        path,
        closed,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.006
    }

    fn spec(values: Vec<Option<f64>>) -> RadarSpec<'static> {
        RadarSpec {
            axes: vec![("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"), ("e", "E")],
            series: vec![SeriesSpec {
                key: "person".into(),
                name: "P".into(),
                labels: vec![String::new(); values.len()],
                values,
            }],
            min: 0.0,
            max: 100.0,
            rings: vec![(50.0, "50".into()), (100.0, "100".into())],
        }
    }

    #[test]
    fn axes_start_up_and_go_clockwise_by_72_degrees() {
        // Axis 0 points up: −90°; axis 1 at −18°, axis 2 at 54°, axis 4 at 198°.
        assert!(close(angle(0, 5).to_degrees(), -90.0));
        assert!(close(angle(1, 5).to_degrees(), -18.0));
        assert!(close(angle(2, 5).to_degrees(), 54.0));
        assert!(close(angle(4, 5).to_degrees(), 198.0));
    }

    #[test]
    fn a_score_sits_at_score_over_100_times_r() {
        // Centre (300, 200), R = 140.
        // 50 on axis 0: half the radius straight up → (300, 200 − 70) = (300, 130).
        let (x, y) = position(50.0, 0, 5, 0.0, 100.0);
        assert!(close(x, 300.0) && close(y, 130.0), "{x} {y}");
        // 100 on axis 1 (−18°): (300 + 140·cos 18°, 200 − 140·sin 18°)
        // = (300 + 140·0.951057, 200 − 140·0.309017) = (433.148, 156.738).
        let (x, y) = position(100.0, 1, 5, 0.0, 100.0);
        assert!(close(x, 433.148) && close(y, 156.738), "{x} {y}");
        // 40 on axis 3 (126°): r = 56: (300 − 56·0.587785, 200 + 56·0.809017)
        // = (267.084, 245.305).
        let (x, y) = position(40.0, 3, 5, 0.0, 100.0);
        assert!(close(x, 267.084) && close(y, 245.305), "{x} {y}");
        // On a 200–800 scale, 500 is half way.
        let (_, y) = position(500.0, 0, 5, 200.0, 800.0);
        assert!(close(y, 130.0));
        // Outside the scale: clamped to the centre or the rim.
        assert_eq!(position(-5.0, 2, 5, 0.0, 100.0), (CX, CY));
        let (_, y) = position(130.0, 0, 5, 0.0, 100.0);
        assert!(close(y, CY - R));
    }

    #[test]
    fn complete_series_are_closed_polygons() {
        let chart = radar(&spec(vec![Some(50.0); 5]));
        let s = &chart.series[0];
        assert!(s.closed);
        assert!(
            s.path.starts_with("M 300 130 L ") && s.path.ends_with(" Z"),
            "{}",
            s.path
        );
        assert_eq!(s.points.len(), 5);
        assert_eq!(s.points[3].domain, "d");
        // Every point is 70 units (50/100 · 140) from the centre.
        for p in &s.points {
            let distance = ((p.x - CX).powi(2) + (p.y - CY).powi(2)).sqrt();
            assert!(close(distance, 70.0), "{distance}");
        }
    }

    #[test]
    fn a_missing_value_breaks_the_outline_and_has_no_point() {
        let chart = radar(&spec(vec![
            Some(50.0),
            None,
            Some(50.0),
            Some(50.0),
            Some(50.0),
        ]));
        let s = &chart.series[0];
        assert!(!s.closed);
        assert_eq!(s.points.len(), 4);
        // Segments 2→3, 3→4 and 4→0 remain; 0→1 and 1→2 are gone.
        assert_eq!(s.path.matches('M').count(), 3, "{}", s.path);
    }

    #[test]
    fn rings_and_labels_are_placed_around_the_centre() {
        let chart = radar(&spec(vec![None; 5]));
        // The 100 ring passes through the top of axis 0.
        assert!(
            chart.rings[1].points.starts_with("300,60 "),
            "{}",
            chart.rings[1].points
        );
        // Its label sits half way between the ends of axes 0 and 1:
        // ((300 + 433.148)/2 + 2, (60 + 156.738)/2 − 2) = (368.57, 106.37).
        assert_eq!((chart.rings[1].lx, chart.rings[1].ly), (368.57, 106.37));
        // Top label: centred, above the axis end; side labels: start/end.
        assert_eq!(chart.axes[0].anchor, "middle");
        assert!(chart.axes[0].lines[0].y < CY - R);
        assert_eq!(chart.axes[1].anchor, "start");
        assert_eq!(chart.axes[4].anchor, "end");
        // Bottom labels hang below their axis end.
        assert!(chart.axes[2].lines[0].y > chart.axes[2].y);
        // Labels stay inside the canvas.
        for axis in &chart.axes {
            for line in &axis.lines {
                assert!(line.y > 0.0 && line.y < HEIGHT, "{line:?}");
            }
        }
        // The longest domain names of the bundled instrument, three lines
        // below the bottom axes, still end above the bottom edge.
        let long = RadarSpec {
            axes: vec![
                ("a", "Literasi Digital"),
                ("b", "Budaya Kerja Berbasis Data"),
                ("c", "Pelayanan Publik Digital"),
                ("d", "Etika dan Keamanan Digital"),
                ("e", "Kepemimpinan Digital"),
            ],
            series: Vec::new(),
            min: 0.0,
            max: 100.0,
            rings: Vec::new(),
        };
        for axis in radar(&long).axes {
            let last = axis.lines.last().unwrap();
            assert!(axis.lines[0].y > 12.0 && last.y < HEIGHT - 4.0, "{axis:?}");
        }
    }
}
