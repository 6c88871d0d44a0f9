//! Stacked horizontal bars: one bar per row (a domain, or the index), split
//! into the share of results at each level, lowest level first. The label
//! sits above each bar so long domain names need no left margin on a phone.

use super::colour::{level_colour, text_on};
use super::r2;
use serde::Serialize;

pub const WIDTH: f64 = 560.0;
/// Room for the label line above a bar: the stylesheet's 16-unit font, and
/// 20 units on a phone, where the chart is drawn smaller.
const LABEL_HEIGHT: f64 = 26.0;
const BAR_HEIGHT: f64 = 24.0;
const ROW_GAP: f64 = 10.0;
/// Narrower segments get no percentage inside them (it would not fit).
const MIN_LABELLED: f64 = 40.0;

/// One bar to draw: the level counts, or `None` when the row is suppressed.
pub struct BarSpec<'a> {
    pub code: &'a str,
    pub label: String,
    /// Printed at the right end of the label line (e.g. `n = 36`).
    pub note: String,
    pub counts: Option<Vec<u64>>,
}

#[derive(Debug, Serialize)]
pub struct StackedBars {
    pub width: f64,
    pub height: f64,
    pub bar_height: f64,
    pub rows: Vec<BarRow>,
}

#[derive(Debug, Serialize)]
pub struct BarRow {
    pub code: String,
    pub label: String,
    pub note: String,
    pub label_y: f64,
    /// Top of the bar, and its middle (text inside is centred on it).
    pub y: f64,
    pub mid_y: f64,
    /// Results with a level (the bar's 100%).
    pub total: u64,
    pub suppressed: bool,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Serialize)]
pub struct Segment {
    pub level: String,
    pub name: String,
    pub count: u64,
    /// Share in percent, and as the reader sees it.
    pub percent: f64,
    pub percent_label: String,
    pub x: f64,
    pub w: f64,
    pub colour: String,
    pub text_colour: &'static str,
    /// Whether the percentage is printed inside the segment.
    pub labelled: bool,
    pub text_x: f64,
}

/// Lays out the bars; `levels` are (code, name) lowest first, and
/// `percent_label` formats a share in percent for the reader.
pub fn stacked_bars(
    rows: &[BarSpec<'_>],
    levels: &[(&str, &str)],
    percent_label: impl Fn(f64) -> String,
) -> StackedBars {
    let step = LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP;
    let rows: Vec<BarRow> = rows
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let top = i as f64 * step;
            let total: u64 = spec.counts.iter().flatten().sum();
            let mut x = 0.0;
            let segments = match &spec.counts {
                Some(counts) if total > 0 => counts
                    .iter()
                    .zip(levels)
                    .enumerate()
                    .filter(|(_, (count, _))| **count > 0)
                    .map(|(k, (&count, (code, name)))| {
                        let share = count as f64 / total as f64;
                        let w = share * WIDTH;
                        let colour = level_colour(k, levels.len());
                        let segment = Segment {
                            level: (*code).to_owned(),
                            name: (*name).to_owned(),
                            count,
                            percent: share * 100.0,
                            percent_label: percent_label(share * 100.0),
                            x: r2(x),
                            w: r2(w),
                            text_colour: text_on(&colour),
                            colour,
                            labelled: w >= MIN_LABELLED,
                            text_x: r2(x + w / 2.0),
                        };
                        x += w;
                        segment
                    })
                    .collect(),
                _ => Vec::new(),
            };
            BarRow {
                code: spec.code.to_owned(),
                label: spec.label.clone(),
                note: spec.note.clone(),
                label_y: r2(top + LABEL_HEIGHT - 6.0),
                y: r2(top + LABEL_HEIGHT),
                mid_y: r2(top + LABEL_HEIGHT + BAR_HEIGHT / 2.0),
                total,
                suppressed: spec.counts.is_none(),
                segments,
            }
        })
        .collect();
    StackedBars {
        width: WIDTH,
        height: r2(rows.len() as f64 * step),
        bar_height: BAR_HEIGHT,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [(&str, &str); 3] = [("lo", "Low"), ("mid", "Mid"), ("hi", "High")];

    fn bars(specs: &[BarSpec<'_>]) -> StackedBars {
        stacked_bars(specs, &LEVELS, |p| format!("{p:.0}%"))
    }

    #[test]
    fn segments_are_proportional_and_contiguous() {
        // 1 : 2 : 1 of 560 → 140, 280, 140 starting at 0, 140, 420.
        let chart = bars(&[BarSpec {
            code: "a",
            label: "A".into(),
            note: String::new(),
            counts: Some(vec![1, 2, 1]),
        }]);
        let s = &chart.rows[0].segments;
        let xw: Vec<(f64, f64)> = s.iter().map(|s| (s.x, s.w)).collect();
        assert_eq!(xw, [(0.0, 140.0), (140.0, 280.0), (420.0, 140.0)]);
        assert_eq!(s[1].percent_label, "50%");
        assert_eq!(s[1].text_x, 280.0);
        assert_eq!(chart.rows[0].mid_y, 38.0);
        assert_eq!(chart.rows[0].total, 4);
    }

    #[test]
    fn empty_levels_and_suppressed_rows_draw_nothing() {
        let chart = bars(&[
            BarSpec {
                code: "a",
                label: "A".into(),
                note: String::new(),
                counts: Some(vec![0, 3, 0]),
            },
            BarSpec {
                code: "b",
                label: "B".into(),
                note: String::new(),
                counts: None,
            },
        ]);
        assert_eq!(chart.rows[0].segments.len(), 1);
        assert_eq!(chart.rows[0].segments[0].w, WIDTH);
        assert_eq!(chart.rows[0].segments[0].level, "mid");
        assert!(chart.rows[1].suppressed && chart.rows[1].segments.is_empty());
        // Rows are stacked 60 units apart: label 26 + bar 24 + gap 10.
        assert_eq!(chart.rows[1].y - chart.rows[0].y, 60.0);
        assert_eq!(chart.height, 120.0);
    }

    #[test]
    fn thin_segments_carry_no_label() {
        // 1 of 40 → 14 units wide: too narrow for "3%".
        let chart = bars(&[BarSpec {
            code: "a",
            label: "A".into(),
            note: String::new(),
            counts: Some(vec![1, 39, 0]),
        }]);
        assert!(!chart.rows[0].segments[0].labelled);
        assert!(chart.rows[0].segments[1].labelled);
    }
}
