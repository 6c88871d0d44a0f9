//! Feedback and advice per DigComp 2.2 proficiency level for area 3,
//! Digital content creation (3.1 developing digital content; 3.3 copyright and licences; 3.4 programming), in Bahasa Indonesia and English.
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
        "Anda dapat membuat dokumen sederhana, tetapi masih memerlukan bantuan untuk menyajikan isi secara menarik, memahami hak cipta, dan mengotomatiskan pekerjaan.",
        "You can produce simple documents, but still need help to present content attractively, to understand copyright and to automate work.",
        "1. Ikuti pelatihan singkat pembuatan presentasi atau infografik dan terapkan pada satu bahan rapat. 2. Pelajari arti lisensi Creative Commons dan cara mencantumkan sumber. 3. Coba satu rumus lembar kerja yang dapat menggantikan hitungan yang kini Anda kerjakan secara manual.",
        "1. Take a short course in making presentations or infographics and use it for one meeting document. 2. Learn what the Creative Commons licences mean and how to credit a source. 3. Try one spreadsheet formula that can replace a calculation you now do by hand.",
    ],
    [
        "Anda membuat konten digital untuk keperluan rutin secara mandiri; yang dapat ditingkatkan adalah kepatuhan pada lisensi dan pemanfaatan otomatisasi.",
        "You create digital content for routine needs on your own; what can improve is respect for licences and the use of automation.",
        "1. Gunakan bank gambar berlisensi terbuka dan catat sumbernya pada setiap materi. 2. Ubah satu laporan berkala menjadi templat berumus sehingga cukup diisi datanya. 3. Minta pembaca menilai keterbacaan materi yang Anda buat.",
        "1. Use openly licensed image libraries and record the source on every piece of material. 2. Turn one periodic report into a template with formulas so that only the data need entering. 3. Ask readers how easy your material is to read.",
    ],
    [
        "Anda menghasilkan dan mengolah ulang konten digital yang bermutu, menghormati hak cipta, dan mampu mengotomatiskan pekerjaan berulang.",
        "You produce and rework good digital content, respect copyright and can automate repetitive work.",
        "1. Susun templat visual dan panduan gaya untuk publikasi unit. 2. Ajari rekan memakai makro atau skrip sederhana yang Anda buat, lengkap dengan dokumentasinya. 3. Jelajahi cara membuat konten yang dapat diakses penyandang disabilitas.",
        "1. Create visual templates and a style guide for your unit's publications. 2. Teach colleagues to use the macros or simple scripts you have written, and document them. 3. Explore how to make content accessible to people with disabilities.",
    ],
    [
        "Anda mampu merancang solusi konten dan otomatisasi yang rumit serta menetapkan standar bagi orang lain.",
        "You can design complex content and automation solutions and set standards for others.",
        "1. Pimpin penyusunan kebijakan lisensi konten instansi, misalnya penerbitan materi dengan lisensi terbuka. 2. Kembangkan otomatisasi lintas unit bersama tim TI dengan dokumentasi dan pengujian yang baik. 3. Bimbing pembuat konten di instansi lain melalui komunitas praktik.",
        "1. Lead the drafting of your agency's content-licensing policy, such as publishing material under open licences. 2. Build cross-unit automation with the IT team, with good documentation and testing. 3. Mentor content makers in other agencies through a community of practice.",
    ],
];

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    feedback_for(level, &BANDS)
}
