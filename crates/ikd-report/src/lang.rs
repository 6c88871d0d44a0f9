//! The two report languages: every fixed text in Bahasa Indonesia and
//! English, and numbers written the way each language writes them (`71,4`
//! and `2.000` in Indonesian, `71.4` and `2,000` in English).

use std::collections::BTreeMap;

pub use ikd_core::lang::Lang;

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
    ("title_person", "Laporan Individu", "Personal Report"),
    ("title_org", "Laporan Organisasi", "Organisation Report"),
    ("instrument", "Instrumen", "Instrument"),
    ("respondent", "Responden", "Respondent"),
    ("org_unit", "Unit organisasi", "Organisation unit"),
    ("model", "Model penilaian", "Scoring model"),
    ("index", "Indeks keseluruhan", "Overall index"),
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

/// The validation report's fixed texts: (key, Bahasa Indonesia, English).
const VALIDATION_TEXTS: &[(&str, &str, &str)] = &[
    ("title_validation", "Laporan Validasi", "Validation Report"),
    ("v_respondents", "Responden", "Respondents"),
    ("v_grouping", "Kelompok DIF", "DIF groups"),
    ("v_reference", "Kelompok acuan", "Reference group"),
    ("v_se_bound", "Batas galat baku θ", "SE bound of θ"),
    (
        "v_complete_cases",
        "{n} menjawab semua butir",
        "{n} answered every item",
    ),
    (
        "v_stratified_alpha",
        "α berstrata indeks",
        "Stratified α of the index",
    ),
    ("v_omega_total", "ω total indeks", "ω total of the index"),
    (
        "v_cfi_structure",
        "CFI struktur instrumen",
        "CFI of the instrument's structure",
    ),
    ("v_to_review", "Butir untuk ditinjau", "Items to review"),
    ("v_of_items", "dari {n} butir", "of {n} items"),
    ("v_summary_title", "Ringkasan", "Summary"),
    (
        "v_summary_note",
        "Laporan ini menilai instrumen, bukan responden: seberapa andal dan konsisten butir-butirnya mengukur, apakah strukturnya sesuai dengan data, dan butir mana yang perlu ditinjau.",
        "This report judges the instrument, not the respondents: how reliably and consistently its items measure, whether its structure fits the data, and which items need a review.",
    ),
    ("v_sample_title", "Sampel", "Sample"),
    (
        "v_groups_caption",
        "Responden per kelompok",
        "Respondents per group",
    ),
    ("v_group", "Kelompok", "Group"),
    ("v_ungrouped", "Tanpa kelompok", "In no group"),
    (
        "v_sample_note",
        "Kelompok dipakai untuk analisis fungsi butir diferensial (DIF). Tingkat jawaban kosong per butir ada di tabel butir di bawah.",
        "The groups are used for the differential item functioning (DIF) analysis. Each item's share of missing answers is in the item tables below.",
    ),
    (
        "v_sample_no_groups",
        "Tidak ada kelompok yang diberikan (--groups), jadi DIF tidak dianalisis. Tingkat jawaban kosong per butir ada di tabel butir di bawah.",
        "No groups were given (--groups), so DIF is not analysed. Each item's share of missing answers is in the item tables below.",
    ),
    ("v_reliability_title", "Reliabilitas", "Reliability"),
    (
        "v_reliability_caption",
        "Reliabilitas per domain dan indeks",
        "Reliability per domain and of the index",
    ),
    ("v_index", "Indeks (semua domain)", "Index (all domains)"),
    ("v_items", "Butir", "Items"),
    ("v_alpha_ci", "IK 95% α", "95% CI of α"),
    (
        "v_reliability_note",
        "α Cronbach dengan interval Feldt dan ω McDonald per domain, dari kovarians berpasangan. Untuk indeks: α berstrata atas domain dan ω total dari analisis faktor konfirmatori struktur instrumen.",
        "Cronbach's α with Feldt's interval and McDonald's ω per domain, from pairwise covariances. For the index: stratified α over the domains and ω total from the confirmatory factor analysis of the instrument's structure.",
    ),
    ("v_items_title", "Butir", "Items"),
    (
        "v_items_note",
        "Sel yang ditandai melanggar aturan tinjauan; baris yang ditandai adalah butir dalam daftar tinjauan. Muatan: muatan baku pada domainnya sendiri dalam model struktur instrumen.",
        "Marked cells break a review rule; marked rows are items on the review list. Loading: the standardized loading on its own domain in the model of the instrument's structure.",
    ),
    ("v_items_caption", "Butir", "Items"),
    ("v_item", "Butir", "Item"),
    ("v_kind", "Jenis", "Kind"),
    ("v_missing", "Kosong", "Missing"),
    ("v_mean", "Rata-rata", "Mean"),
    ("v_item_rest", "r butir–sisa", "Item–rest r"),
    ("v_alpha_if_deleted", "α tanpa butir", "α if deleted"),
    ("v_loading", "Muatan", "Loading"),
    (
        "v_dimensionality_title",
        "Dimensionalitas",
        "Dimensionality",
    ),
    (
        "v_dimensionality_note",
        "Analisis faktor konfirmatori (maksimum likelihood): struktur instrumen (setiap butir pada domainnya, domain saling berkorelasi) dibandingkan dengan satu faktor umum. Kecocokan baik kira-kira bila CFI dan TLI ≥ 0,95, RMSEA ≤ 0,06 dan SRMR ≤ 0,08 (Hu & Bentler 1999).",
        "Confirmatory factor analysis (maximum likelihood): the instrument's structure (each item on its domain, the domains correlated) against one general factor. Fit is good roughly when CFI and TLI ≥ 0.95, RMSEA ≤ 0.06 and SRMR ≤ 0.08 (Hu & Bentler 1999).",
    ),
    (
        "v_fit_caption",
        "Kecocokan kedua model",
        "Fit of both models",
    ),
    ("v_measure", "Ukuran", "Measure"),
    (
        "v_model_structure",
        "Struktur instrumen",
        "Instrument's structure",
    ),
    ("v_model_one", "Satu faktor", "One factor"),
    ("v_rmsea_ci", "IK 90% RMSEA", "90% CI of RMSEA"),
    (
        "v_cfa_sample",
        "Sampel: {n} responden yang menjawab semua butir.",
        "Sample: {n} respondents who answered every item.",
    ),
    (
        "v_not_converged",
        "estimasi tidak konvergen",
        "the estimation did not converge",
    ),
    (
        "v_heywood",
        "estimasi di luar rentang yang wajar (kasus Heywood)",
        "an estimate outside the admissible range (Heywood case)",
    ),
    (
        "v_correlations_caption",
        "Korelasi antardomain (faktor)",
        "Correlations between the domains (factors)",
    ),
    (
        "v_dif_title",
        "Fungsi butir diferensial (DIF)",
        "Differential item functioning (DIF)",
    ),
    (
        "v_dif_intro",
        "Kelompok menurut {grouping}; acuan {reference}, dibandingkan dengan {focal}. Responden dicocokkan pada skor total domain; kelompok dengan kurang dari {min} responden pada suatu butir tidak dianalisis untuk butir itu.",
        "Groups by {grouping}; reference {reference}, compared with {focal}. Respondents are matched on the domain's total score; a group with fewer than {min} respondents on an item is left out of that item's analysis.",
    ),
    (
        "v_dif_note",
        "Butir 0/1: Mantel–Haenszel per kelompok fokal (Δ MH dan kelas ETS A/B/C; Δ negatif: butir lebih sulit bagi kelompok fokal). Butir politomus: regresi logistik ordinal (ΔR² Nagelkerke, p terkoreksi, kelas Jodoin–Gierl). p dikoreksi Benjamini–Hochberg atas semua uji.",
        "0/1 items: Mantel–Haenszel per focal group (MH Δ and ETS class A/B/C; a negative Δ: the item is harder for the focal group). Polytomous items: ordinal logistic regression (Nagelkerke ΔR², adjusted p, Jodoin–Gierl class). p adjusted by Benjamini–Hochberg over all tests.",
    ),
    ("v_dif_caption", "DIF", "DIF"),
    ("v_persons_used", "{n} responden", "{n} respondents"),
    ("v_method", "Metode", "Method"),
    ("v_logistic", "Logistik", "Logistic"),
    ("v_lr_result", "Regresi logistik", "Logistic regression"),
    ("v_withheld", "Tidak dilaporkan", "Not reported"),
    ("v_fit_title", "Kecocokan butir (IRT)", "Item fit (IRT)"),
    (
        "v_fit_note",
        "Model respons bertingkat (GRM) dikalibrasi per domain. M2* menilai kecocokan global tiap domain; S-X² menilai tiap butir pada responden yang menjawab semua butir domainnya, p dikoreksi Benjamini–Hochberg atas semua butir.",
        "A graded response model (GRM) calibrated per domain. M2* judges each domain's global fit; S-X² judges each item on the respondents who answered every item of its domain, p adjusted by Benjamini–Hochberg over all items.",
    ),
    (
        "v_m2_caption",
        "Kecocokan global per domain (M2*)",
        "Global fit per domain (M2*)",
    ),
    ("v_categories", "Kategori", "Categories"),
    ("v_p_adjusted", "p terkoreksi", "Adjusted p"),
    (
        "v_information_title",
        "Informasi dan galat baku",
        "Information and standard error",
    ),
    (
        "v_information_note",
        "Informasi tes tiap domain (atas) dan galat baku bersyarat θ = 1/√I(θ) (bawah). Garis putus-putus: batas galat baku; area berarsir: rentang θ yang diukur dengan cukup presisi.",
        "Each domain's test information (top) and the conditional standard error of θ = 1/√I(θ) (bottom). Dashed line: the SE bound; shaded: the θ range measured precisely enough.",
    ),
    ("v_information_axis", "Informasi", "Information"),
    ("v_se_axis", "Galat baku", "Standard error"),
    (
        "v_curve_title",
        "Informasi dan galat baku",
        "Information and SE",
    ),
    (
        "v_curve_summary",
        "Galat baku ≤ {bound} pada θ {ranges}; informasi tertinggi {max} pada θ = {at}.",
        "SE ≤ {bound} at θ {ranges}; highest information {max} at θ = {at}.",
    ),
    ("v_no_precise", "tidak di mana pun", "nowhere"),
    ("v_review_title", "Butir untuk ditinjau", "Items to review"),
    (
        "v_review_caption",
        "Butir yang melanggar setidaknya satu aturan",
        "Items that break at least one rule",
    ),
    ("v_text", "Teks", "Text"),
    ("v_reasons", "Alasan", "Reasons"),
    (
        "v_review_empty",
        "Tidak ada butir yang melanggar aturan tinjauan.",
        "No item breaks a review rule.",
    ),
    ("v_rules_title", "Aturan tinjauan", "Review rules"),
    (
        "rule_misfit",
        "Tidak cocok: S-X² dengan p terkoreksi < {misfit_p} dan RMSEA S-X² > {misfit_rmsea}.",
        "Misfit: S-X² with an adjusted p < {misfit_p} and an S-X² RMSEA > {misfit_rmsea}.",
    ),
    (
        "rule_dif",
        "DIF: p terkoreksi < {dif_p} dengan kelas B atau C (ETS untuk Mantel–Haenszel, Jodoin–Gierl untuk regresi logistik).",
        "DIF: an adjusted p < {dif_p} with class B or C (ETS for Mantel–Haenszel, Jodoin–Gierl for logistic regression).",
    ),
    (
        "rule_item_rest",
        "Korelasi butir–sisa < {min_item_rest}.",
        "Item–rest correlation < {min_item_rest}.",
    ),
    (
        "rule_loading",
        "Muatan baku pada domainnya < {min_loading} (model struktur instrumen).",
        "Standardized loading on its domain < {min_loading} (the instrument's structure).",
    ),
    (
        "rule_missing",
        "Jawaban kosong > {max_missing} responden.",
        "Missing answers > {max_missing} of respondents.",
    ),
    (
        "review_misfit",
        "tidak cocok dengan model (S-X², p terkoreksi {value})",
        "misfit (S-X², adjusted p {value})",
    ),
    (
        "review_dif_mh",
        "DIF kelas {class} untuk {group} (Δ MH {value})",
        "DIF class {class} for {group} (MH Δ {value})",
    ),
    (
        "review_dif_logistic",
        "DIF kelas {class} (regresi logistik, ΔR² {value})",
        "DIF class {class} (logistic regression, ΔR² {value})",
    ),
    (
        "review_low_item_rest",
        "korelasi butir–sisa rendah ({value})",
        "low item–rest correlation ({value})",
    ),
    (
        "review_low_loading",
        "muatan faktor rendah ({value})",
        "low factor loading ({value})",
    ),
    (
        "review_high_missing",
        "banyak jawaban kosong ({value})",
        "many missing answers ({value})",
    ),
    ("stat_alpha", "α", "α"),
    ("stat_alpha_interval", "interval α", "interval of α"),
    ("stat_omega", "ω", "ω"),
    ("stat_item_in_scale", "statistik butir", "item statistics"),
    ("stat_stratified_alpha", "α berstrata", "stratified α"),
    (
        "why_too_few_respondents",
        "{have} responden; diperlukan {need}",
        "{have} respondents; {need} needed",
    ),
    (
        "why_too_few_items",
        "{have} butir; diperlukan {need}",
        "{have} items; {need} needed",
    ),
    (
        "why_too_few_pairs",
        "butir {item} dijawab bersama oleh {have} responden; diperlukan {need}",
        "items {item} were answered together by {have} respondents; {need} needed",
    ),
    (
        "why_no_variance",
        "butir {item} tidak bervariasi",
        "item {item} has no variance",
    ),
    (
        "why_no_total_variance",
        "skor total tidak bervariasi",
        "the total score has no variance",
    ),
    (
        "why_not_positive_semidefinite",
        "kovarians antarbutir tidak konsisten: terlalu sedikit responden menjawab butir yang sama",
        "the covariances of the items are inconsistent: too few respondents answered the same items",
    ),
    (
        "why_no_groups",
        "tidak ada kelompok (--groups)",
        "no groups (--groups)",
    ),
    (
        "why_one_group",
        "hanya ada satu kelompok",
        "there is only one group",
    ),
    (
        "why_unknown_reference",
        "kelompok acuan tidak ada",
        "the reference group does not exist",
    ),
    (
        "why_group_too_small",
        "kelompok {group}: {have} responden; diperlukan {need}",
        "group {group}: {have} respondents; {need} needed",
    ),
    (
        "why_constant",
        "semua responden memberi skor yang sama",
        "every respondent has the same score",
    ),
    (
        "why_no_information",
        "tidak ada skor total yang memuat kedua kelompok dan kedua jawaban",
        "no total score holds both groups and both answers",
    ),
    (
        "why_undefined_odds_ratio",
        "rasio odds 0 atau tak hingga",
        "the odds ratio is 0 or infinite",
    ),
    (
        "why_not_dichotomous",
        "skor bukan 0/1",
        "the scores are not 0/1",
    ),
    (
        "why_model_failed",
        "model tidak dapat diestimasi",
        "the model could not be estimated",
    ),
    (
        "why_calibration_failed",
        "kalibrasi IRT tidak dapat dilakukan pada data ini",
        "the IRT calibration is not possible on these data",
    ),
    (
        "why_no_complete_patterns",
        "tidak ada responden yang menjawab semua butir domain",
        "no respondent answered every item of the domain",
    ),
    (
        "v_notes_use",
        "Angka-angka ini untuk peninjauan instrumen oleh tim psikometri. Butir dalam daftar tinjauan tidak otomatis buruk: bacalah teksnya, periksa kunci dan terjemahannya, lalu putuskan. Dengan sampel besar, perbedaan kecil pun signifikan; perhatikan besarnya efek.",
        "These numbers are for the instrument's review by a psychometric team. An item on the review list is not bad by that alone: read its text, check its key and its translation, then decide. With a large sample even small differences are significant; look at the size of the effect.",
    ),
    (
        "v_notes_json",
        "Semua angka laporan ini, termasuk yang tidak ditampilkan, ada di berkas JSON dari `ikd validation-report --json`. Definisi dan aturan: docs/analysis.md, bagian \"Validation report\".",
        "Every number of this report, including those not shown, is in the JSON file of `ikd validation-report --json`. Definitions and rules: docs/analysis.md, section \"Validation report\".",
    ),
];

/// The fixed texts of `lang`, by key (the validation report's included).
pub fn texts(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    TEXTS
        .iter()
        .chain(VALIDATION_TEXTS)
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
        let all: Vec<&(&str, &str, &str)> = TEXTS.iter().chain(VALIDATION_TEXTS).collect();
        let mut keys: Vec<&str> = all.iter().map(|t| t.0).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), all.len(), "duplicate keys");
        for (key, id, en) in all {
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
