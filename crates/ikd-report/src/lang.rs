//! The two report languages: every fixed text in Bahasa Indonesia and
//! English, and numbers written the way each language writes them (`71,4`
//! and `2.000` in Indonesian, `71.4` and `2,000` in English).

use crate::error::ReportError;
use serde::Serialize;
use std::collections::BTreeMap;

/// A report language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Lang {
    /// Bahasa Indonesia.
    #[default]
    Id,
    En,
}

impl Lang {
    /// The ISO 639-1 code (`id`, `en`), as in `<html lang>` and `Text::get`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self, ReportError> {
        match s {
            "id" => Ok(Lang::Id),
            "en" => Ok(Lang::En),
            other => Err(ReportError::Language(other.to_owned())),
        }
    }
}

/// A number with `decimals` decimals in the language's notation; `–` for none.
pub fn number(x: Option<f64>, decimals: usize, lang: Lang) -> String {
    let Some(x) = x.filter(|x| x.is_finite()) else {
        return "–".to_owned();
    };
    let text = format!("{x:.decimals$}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let (group, point) = match lang {
        Lang::Id => ('.', ','),
        Lang::En => (',', '.'),
    };
    let mut out = String::from(sign);
    out.push_str(&group_digits(digits, group));
    if !frac.is_empty() {
        out.push(point);
        out.push_str(frac);
    }
    out
}

/// A count with thousands separators.
pub fn integer(n: u64, lang: Lang) -> String {
    number(Some(n as f64), 0, lang)
}

/// A share in percent with no decimals (`45%`).
pub fn percent(p: f64, lang: Lang) -> String {
    format!("{}%", number(Some(p), 0, lang))
}

fn group_digits(digits: &str, separator: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// Fills `{name}` placeholders of a fixed text.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_owned(), |acc, (name, value)| {
        acc.replace(&format!("{{{name}}}"), value)
    })
}

/// Every fixed text: (key, Bahasa Indonesia, English).
const TEXTS: &[(&str, &str, &str)] = &[
    (
        "title_person",
        "Laporan Individu IKD",
        "IKD Personal Report",
    ),
    (
        "title_org",
        "Laporan Organisasi IKD",
        "IKD Organisation Report",
    ),
    ("instrument", "Instrumen", "Instrument"),
    ("respondent", "Responden", "Respondent"),
    ("org_unit", "Unit organisasi", "Organisation unit"),
    ("model", "Model penilaian", "Scoring model"),
    (
        "index",
        "Indeks Kompetensi Digital",
        "Digital Competency Index",
    ),
    ("index_short", "Indeks", "Index"),
    ("level", "Tingkat", "Level"),
    ("score", "Skor", "Score"),
    ("domain", "Domain", "Domain"),
    ("mean", "Rata-rata", "Mean"),
    ("mean_ci", "Rata-rata (IK 95%)", "Mean (95% CI)"),
    (
        "ci95",
        "Interval kepercayaan 95%",
        "95% confidence interval",
    ),
    (
        "no_ci",
        "Model penilaian ini tidak memberikan galat baku, jadi tidak ada interval kepercayaan.",
        "This scoring model gives no standard error, so there is no confidence interval.",
    ),
    ("not_scored", "Tidak dinilai", "Not scored"),
    (
        "not_scored_why",
        "Terlalu sedikit jawaban untuk dinilai.",
        "Too few answers to be scored.",
    ),
    (
        "profile_title",
        "Profil lima domain",
        "Profile across the domains",
    ),
    ("series_person", "Anda", "You"),
    (
        "series_unit_mean",
        "Rata-rata unit {unit}",
        "Mean of unit {unit}",
    ),
    (
        "unit_mean_suppressed",
        "Rata-rata unit tidak ditampilkan: unit {unit} memiliki kurang dari {min} hasil, atau rata-ratanya dapat dipakai untuk menghitung kelompok yang lebih kecil.",
        "The unit mean is not shown: unit {unit} has fewer than {min} results, or its mean could be used to work out a smaller group.",
    ),
    (
        "unit_mean_note",
        "Rata-rata unit dihitung dari {n} hasil di unit {unit}, termasuk hasil Anda.",
        "The unit mean is computed from {n} results in unit {unit}, yours included.",
    ),
    (
        "domains_title",
        "Domain: tingkat, umpan balik, dan langkah pengembangan",
        "Domains: level, feedback and development actions",
    ),
    ("feedback", "Umpan balik", "Feedback"),
    ("actions", "Langkah pengembangan", "Development actions"),
    (
        "no_feedback",
        "Umpan balik tidak ada dalam berkas hasil ini; berkas dari `ikd score --format json` memuatnya.",
        "The results file holds no feedback; one written by `ikd score --format json` does.",
    ),
    ("about_title", "Tentang indeks ini", "About this index"),
    (
        "about_is",
        "Indeks ini menggambarkan kompetensi digital Anda pada saat pengukuran, pada skala {min}–{max}, berdasarkan jawaban Anda atas instrumen ini. Gunakan untuk memilih langkah pengembangan dan membicarakannya dengan atasan Anda.",
        "The index describes your digital competency at the time of the assessment, on a {min}–{max} scale, from your answers to this instrument. Use it to choose development actions and to discuss them with your supervisor.",
    ),
    (
        "about_not",
        "Indeks ini bukan tes seleksi, promosi, atau dasar sanksi, dan bukan penilaian kinerja. Selisih kecil antarskor tidak bermakna; interval kepercayaan menunjukkan ketidakpastian pengukuran.",
        "The index is not a test for selection, promotion or sanctions, nor a performance appraisal. Small differences between scores mean little; the confidence interval shows the uncertainty of the measurement.",
    ),
    (
        "flags_note",
        "Catatan kualitas jawaban: {flags}. Hasil ini mungkin kurang dapat diandalkan.",
        "Answer-quality note: {flags}. This result may be less reliable.",
    ),
    ("flag_too-fast", "diisi terlalu cepat", "completed too fast"),
    (
        "flag_straight-line-run",
        "banyak jawaban skala berurutan yang sama",
        "a long run of identical rating answers",
    ),
    (
        "flag_straight-line-all",
        "semua jawaban skala sama",
        "the same answer to every rating item",
    ),
    ("made_by", "Dibuat oleh ikd", "Made by ikd"),
    ("summary_title", "Ringkasan", "Summary"),
    ("n_results", "Jumlah hasil", "Results"),
    (
        "participation",
        "Dengan indeks komposit",
        "With a composite index",
    ),
    ("index_mean", "Rata-rata indeks", "Mean index"),
    ("sd", "Simpangan baku", "Standard deviation"),
    (
        "flagged",
        "Ditandai (kualitas jawaban)",
        "Flagged (answer quality)",
    ),
    ("all_units", "Seluruh unit", "All units"),
    ("compare_title", "Perbandingan domain", "Domains compared"),
    ("series_unit", "Unit {unit}", "Unit {unit}"),
    ("series_parent", "Induk {unit}", "Parent {unit}"),
    ("series_all", "Seluruh data", "Whole data set"),
    (
        "levels_title",
        "Sebaran tingkat per domain",
        "Level distribution per domain",
    ),
    ("not_reported", "tidak dilaporkan", "not reported"),
    (
        "children_title",
        "Domain per subunit",
        "Domains per sub-unit",
    ),
    ("sub_unit", "Subunit", "Sub-unit"),
    (
        "no_children",
        "Tidak ada subunit di bawah unit ini dalam data.",
        "There are no sub-units below this unit in the data.",
    ),
    (
        "suppressed_children",
        "{n} subunit tidak dilaporkan: yang hasilnya kurang dari {min}, dan subunit dengan hasil paling sedikit yang ikut disembunyikan agar angkanya tidak dapat dihitung dari selisih.",
        "{n} sub-unit(s) not reported: those with fewer than {min} results, and the smallest ones hidden with them so that their figures cannot be worked out by subtraction.",
    ),
    ("this_unit", "(unit ini sendiri)", "(this unit itself)"),
    (
        "colour_scale",
        "Warna sel menunjukkan tingkat rata-ratanya; – : kurang dari batas minimum hasil.",
        "A cell's colour shows the level of its mean; – : fewer results than the minimum.",
    ),
    (
        "indicators_title",
        "Indikator terlemah",
        "Weakest indicators",
    ),
    ("indicator", "Indikator", "Indicator"),
    (
        "indicators_need",
        "Rata-rata indikator memerlukan jawaban mentah: jalankan `ikd report org … --answers ANSWERS.csv`.",
        "Indicator means need the raw answers: run `ikd report org … --answers ANSWERS.csv`.",
    ),
    (
        "indicators_note",
        "Skor butir sebagai persen dari skor maksimum butir, dirata-ratakan per responden lalu antarresponden; dari {n} responden unit ini dalam berkas jawaban. {shown} terendah dari {total} indikator.",
        "Item scores as a percentage of the item's maximum, averaged per respondent and then over respondents; from {n} respondents of this unit in the answers file. The lowest {shown} of {total} indicators.",
    ),
    (
        "notes_title",
        "Cara membaca laporan ini",
        "How to read this report",
    ),
    (
        "note_ci",
        "Interval kepercayaan 95% untuk rata-rata dihitung dengan distribusi t dari simpangan baku hasil.",
        "The 95% confidence interval of a mean uses Student's t and the standard deviation of the results.",
    ),
    (
        "note_suppression",
        "Kelompok atau domain dengan kurang dari {min} hasil tidak dilaporkan, bahkan jumlahnya, agar hasil perorangan tidak dapat dikenali.",
        "Groups or domains with fewer than {min} results are not reported, not even their number, so that no individual result can be recognised.",
    ),
    (
        "note_compare",
        "Perbandingan: unit induk adalah awalan tanpa segmen terakhirnya; seluruh data adalah semua hasil dalam berkas.",
        "Comparisons: the parent unit is the prefix without its last segment; the whole data set is every result in the file.",
    ),
    (
        "note_withheld",
        "{units} tidak ditampilkan sebagai pembanding: angkanya disembunyikan agar kelompok kecil tidak dapat dihitung dari selisih.",
        "{units}: not shown for comparison, its figures are withheld so that no small group can be worked out by subtraction.",
    ),
    (
        "note_use",
        "Hasil organisasi untuk merencanakan pengembangan kompetensi, bukan untuk memeringkat atau memberi sanksi kepada pegawai atau unit.",
        "Organisation results serve planning competency development, not ranking or sanctioning staff or units.",
    ),
];

/// The fixed texts of `lang`, by key.
pub fn texts(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    TEXTS
        .iter()
        .map(|(key, id, en)| (*key, if lang == Lang::En { *en } else { *id }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(number(Some(71.38), 1, Lang::Id), "71,4");
        assert_eq!(number(Some(71.38), 1, Lang::En), "71.4");
        assert_eq!(integer(2000, Lang::Id), "2.000");
        assert_eq!(integer(1_234_567, Lang::En), "1,234,567");
        assert_eq!(integer(999, Lang::En), "999");
        assert_eq!(number(Some(-1234.5), 1, Lang::En), "-1,234.5");
        assert_eq!(number(None, 1, Lang::En), "–");
        assert_eq!(number(Some(f64::NAN), 1, Lang::En), "–");
        assert_eq!(percent(45.4, Lang::Id), "45%");
    }

    #[test]
    fn every_text_exists_in_both_languages_once() {
        let mut keys: Vec<&str> = TEXTS.iter().map(|t| t.0).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), TEXTS.len(), "duplicate keys");
        for (key, id, en) in TEXTS {
            assert!(!id.is_empty() && !en.is_empty(), "{key}");
            // Placeholders are the same in both languages.
            let holes = |s: &str| {
                let mut h: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                    .collect();
                h.sort();
                h
            };
            assert_eq!(holes(id), holes(en), "{key}");
        }
    }

    #[test]
    fn languages_parse_and_fill() {
        assert_eq!("en".parse::<Lang>().unwrap(), Lang::En);
        assert!(
            "fr".parse::<Lang>()
                .unwrap_err()
                .to_string()
                .contains("'fr'")
        );
        assert_eq!(fill("{n} of {min}", &[("n", "3"), ("min", "5")]), "3 of 5");
    }
}
