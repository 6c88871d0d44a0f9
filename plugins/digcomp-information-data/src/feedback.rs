//! Feedback and advice per DigComp 2.2 proficiency level for area 1,
//! Information and data literacy (1.1 browsing, searching and filtering; 1.2 evaluating; 1.3 managing data, information and digital content), in Bahasa Indonesia and English.
//!
//! DigComp 2.2 has eight proficiency levels in four groups: foundation (1–2),
//! intermediate (3–4), advanced (5–6) and highly specialised (7–8). The
//! instrument reports the groups as its levels; the feedback has one band per
//! group, and the SDK places any instrument's levels on these bands by their
//! position.

use ikd_plugin_sdk::feedback::{BandTexts, feedback_for};
use ikd_plugin_sdk::{Feedback, LevelRef};

/// Summary and advice (id, en) per group, lowest first.
const BANDS: [BandTexts; 4] = [
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

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    feedback_for(level, &BANDS)
}
