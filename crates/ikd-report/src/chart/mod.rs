//! Chart geometry: each chart is computed here as plain numbers and strings
//! (positions, path data, colours) and drawn as inline SVG by the templates,
//! so the geometry is tested without a browser and the markup stays in one
//! place.

pub mod bars;
pub mod colour;
pub mod radar;
pub mod scale;

/// Rounds a coordinate to 2 decimals: a hundredth of a pixel is below what
/// any screen shows, and the SVG stays short.
pub fn r2(x: f64) -> f64 {
    // `+ 0.0` turns −0 into 0, which SVG would otherwise get as "-0".
    (x * 100.0).round() / 100.0 + 0.0
}

/// Splits a label into lines of at most `width` characters at spaces (a
/// longer word gets a line of its own). Every line but the last keeps its
/// trailing space, so the lines joined give the label back.
pub fn wrap(label: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in label.split_whitespace() {
        let fits = current.chars().count() + word.chars().count() <= width;
        if !current.is_empty() && !fits {
            lines.push(std::mem::take(&mut current));
        }
        current.push_str(word);
        current.push(' ');
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if let Some(last) = lines.last_mut() {
        last.truncate(last.trim_end().len());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_wrap_at_spaces_and_join_back() {
        let lines = wrap("Etika dan Keamanan Digital", 14);
        assert_eq!(lines, ["Etika dan ", "Keamanan ", "Digital"]);
        assert_eq!(lines.concat(), "Etika dan Keamanan Digital");
        assert_eq!(wrap("Literasi Digital", 16), ["Literasi Digital"]);
        assert_eq!(wrap("Kepemimpinan", 5), ["Kepemimpinan"]);
        assert!(wrap("", 5).is_empty());
    }

    #[test]
    fn coordinates_round_to_hundredths() {
        assert_eq!(r2(12.345_678), 12.35);
        assert!(r2(-0.004).is_sign_positive());
    }
}
