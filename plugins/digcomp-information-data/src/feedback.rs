//! Feedback and advice per DigComp 2.2 proficiency level for area 1,
//! Information and data literacy (1.1 browsing, searching and filtering; 1.2 evaluating; 1.3 managing data, information and digital content), in Bahasa Indonesia and English.
//!
//! DigComp 2.2 has eight proficiency levels in four groups: foundation (1–2),
//! intermediate (3–4), advanced (5–6) and highly specialised (7–8). The
//! instrument reports the groups as its levels. A level is matched by its
//! code; one with another code (another instrument's bands) falls back on its
//! lower bound, with the instrument's cut points, so the text still fits.

use ikd_plugin_sdk::{Feedback, LevelRef};

/// The level codes of the four DigComp groups, lowest first.
pub const LEVEL_CODES: [&str; 4] = [
    "foundation",
    "intermediate",
    "advanced",
    "highly-specialised",
];

/// Where the groups above foundation start on 0–100 (the instrument's bands;
/// docs/instruments/digcomp-2.2.md explains the choice).
const CUT_POINTS: [f64; 3] = [40.0, 65.0, 85.0];

/// (summary id, summary en, advice id, advice en) per group, lowest first.
const TEXTS: [[&str; 4]; 4] = [
    [
        "Anda dapat mencari informasi sederhana, tetapi masih memerlukan bantuan untuk menyaring hasil pencarian, menilai keandalan sumber, dan menata berkas kerja.",
        "You can look up simple information, but still need help to filter search results, judge how reliable a source is and keep work files in order.",
        "1. Latih pencarian dengan tanda kutip, tanda minus, dan filter jenis berkas pada satu tugas nyata setiap minggu. 2. Sebelum memakai sebuah angka, cari tahu siapa penerbitnya dan kapan datanya dikumpulkan. 3. Sepakati satu pola penamaan berkas dengan tim dan ikuti pola itu.",
        "1. Practise searching with quotation marks, the minus sign and file-type filters on one real task each week. 2. Before you use a figure, find out who published it and when the data were collected. 3. Agree one file-naming pattern with your team and stick to it.",
    ],
    [
        "Anda mandiri dalam mencari dan menyimpan informasi untuk tugas rutin dan mulai memeriksa sumber secara kritis; yang masih perlu diasah adalah membaca data dan grafik dengan cermat.",
        "You find and store information for routine tasks on your own and have begun to check sources critically; what still needs sharpening is reading data and charts carefully.",
        "1. Biasakan membandingkan setidaknya dua sumber resmi sebelum menarik kesimpulan. 2. Pelajari jebakan umum grafik: sumbu yang terpotong, skala yang berbeda, dan rata-rata yang menyesatkan. 3. Gunakan riwayat versi di penyimpanan bersama alih-alih menyimpan salinan berkas dengan nama baru.",
        "1. Make a habit of comparing at least two official sources before drawing a conclusion. 2. Learn the common traps of charts: cut axes, mismatched scales and misleading averages. 3. Use version history in shared storage instead of saving copies of a file under new names.",
    ],
    [
        "Anda menelusuri, menilai, dan mengelola informasi serta data secara mandiri untuk beragam keperluan, dan dapat membantu rekan yang kesulitan.",
        "You search, assess and manage information and data on your own for a wide range of purposes, and can help colleagues who struggle.",
        "1. Bimbing rekan dalam memeriksa informasi sebelum dibagikan, dengan contoh kasus dari unit Anda sendiri. 2. Rancang struktur folder dan aturan akses untuk data bersama unit. 3. Perdalam pengolahan data, misalnya tabel pivot atau dasbor sederhana.",
        "1. Coach colleagues in checking information before it is shared, using cases from your own unit. 2. Design the folder structure and access rules for your unit's shared data. 3. Deepen your data handling, for example pivot tables or a simple dashboard.",
    ],
    [
        "Literasi informasi dan data Anda memungkinkan Anda memecahkan persoalan yang rumit dan menetapkan cara kerja bagi orang lain.",
        "Your information and data literacy lets you solve complex problems and set the way others work.",
        "1. Susun panduan verifikasi informasi atau tata kelola data untuk instansi Anda. 2. Fasilitasi pelatihan bagi pengelola data di unit lain. 3. Ikuti perkembangan data terbuka, interoperabilitas, dan pengaruh kecerdasan artifisial terhadap mutu informasi.",
        "1. Draft an information-verification or data-governance guide for your agency. 2. Run training for data stewards in other units. 3. Follow developments in open data, interoperability and the effect of artificial intelligence on the quality of information.",
    ],
];

/// Position 0..=3 of `level`: by code, else by its lower bound (the middle
/// groups' text when the bound is not a number).
pub fn level_position(level: &LevelRef) -> usize {
    if let Some(p) = LEVEL_CODES.iter().position(|c| *c == level.code) {
        return p;
    }
    if !level.min.is_finite() {
        return 1;
    }
    CUT_POINTS.iter().filter(|&&cut| level.min >= cut).count()
}

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    let [summary_id, summary_en, advice_id, advice_en] = TEXTS[level_position(level)];
    Feedback::new((summary_id, summary_en), (advice_id, advice_en))
}
