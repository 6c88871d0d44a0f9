//! Feedback and advice per DigComp 2.2 proficiency level for area 4,
//! Safety (4.1 protecting devices; 4.2 protecting personal data and privacy; 4.3 protecting health and well-being), in Bahasa Indonesia and English.
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
        "Anda mengenal langkah keamanan dasar, tetapi masih rentan terhadap penipuan daring, kata sandi yang lemah, dan kebiasaan digital yang melelahkan.",
        "You know basic safety steps, but are still exposed to online fraud, weak passwords and tiring digital habits.",
        "1. Aktifkan verifikasi dua langkah pada akun kerja dan surel Anda minggu ini. 2. Jangan pernah memberikan kode OTP kepada siapa pun, termasuk orang yang mengaku petugas. 3. Tetapkan jam tanpa notifikasi kerja agar Anda dapat beristirahat.",
        "1. Turn on two-step verification for your work accounts and e-mail this week. 2. Never give a one-time code to anyone, including people who claim to be staff. 3. Set hours without work notifications so that you can rest.",
    ],
    [
        "Anda menjalankan kebiasaan keamanan yang baik untuk diri sendiri; perlindungan data orang lain dan kewaspadaan terhadap modus penipuan baru masih dapat diperkuat.",
        "You keep good safety habits for yourself; protecting other people's data and watching for new fraud schemes can still be strengthened.",
        "1. Pakai pengelola kata sandi agar setiap akun memiliki kata sandi sendiri. 2. Periksa cara unit Anda menyimpan dan mengirim data pribadi warga, lalu usulkan perbaikan. 3. Ikuti kabar modus penipuan terbaru dari kanal resmi dan bagikan kepada tim.",
        "1. Use a password manager so that every account has its own password. 2. Check how your unit stores and sends citizens' personal data, and suggest improvements. 3. Follow news of the latest fraud schemes from official channels and share it with your team.",
    ],
    [
        "Anda melindungi perangkat, data, dan kesejahteraan digital secara konsisten dan dapat membantu rekan menghadapi insiden.",
        "You protect devices, data and digital well-being consistently and can help colleagues deal with incidents.",
        "1. Bantu menyusun prosedur pelaporan insiden keamanan di unit Anda. 2. Adakan latihan surel phishing bersama tim TI dan bahas hasilnya. 3. Ajak tim menyepakati batas komunikasi kerja di luar jam dinas.",
        "1. Help draw up your unit's procedure for reporting security incidents. 2. Run a phishing e-mail exercise with the IT team and discuss the results. 3. Get your team to agree limits on work communication outside office hours.",
    ],
    [
        "Anda mampu menangani persoalan keamanan, privasi, dan kesejahteraan digital yang rumit serta menetapkan praktik bagi organisasi.",
        "You can handle complex security, privacy and digital well-being problems and set practice for the organisation.",
        "1. Ikut merancang kebijakan pelindungan data pribadi instansi sesuai peraturan yang berlaku. 2. Latih petugas di unit lain menjadi rujukan keamanan informasi. 3. Perhatikan pula dampak lingkungan perangkat digital, misalnya dalam pengadaan dan daur ulang.",
        "1. Help design your agency's personal-data protection policy in line with the law. 2. Train staff in other units to act as information-security contacts. 3. Also consider the environmental impact of digital devices, for example in procurement and recycling.",
    ],
];

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    feedback_for(level, &BANDS)
}
