//! Feedback and development advice for each level of the Etika dan Keamanan Digital domain.

use ikd_plugin_sdk::feedback::{BandTexts, feedback_for};
use ikd_plugin_sdk::{Feedback, LevelRef};

/// Summary and advice (id, en) per level, lowest first.
const BANDS: [BandTexts; 5] = [
    [
        "Anda sangat rentan terhadap ancaman digital: pesan penipuan (phishing), kata sandi \
         yang lemah, dan berbagi data pribadi tanpa sadar masih menjadi risiko besar.",
        "You are highly exposed to digital threats: fraudulent (phishing) messages, weak \
         passwords and unwitting sharing of personal data are still major risks.",
        "1. Ganti kata sandi akun kerja Anda dengan frasa sandi yang panjang dan unik, lalu \
         aktifkan verifikasi dua langkah pada e-mail dan aplikasi kepegawaian. 2. Sebelum \
         mengeklik tautan atau membuka lampiran, periksa alamat pengirim dan domain situsnya; \
         tanyakan kepada tim TI atau CSIRT instansi bila ragu. 3. Jangan pernah memberikan kata \
         sandi atau kode OTP kepada siapa pun, termasuk orang yang mengaku petugas TI.",
        "1. Replace the passwords of your work accounts with long, unique passphrases and turn \
         on two-step verification for e-mail and the personnel application. 2. Before clicking \
         a link or opening an attachment, check the sender's address and the site's domain; ask \
         your IT team or the agency's CSIRT when in doubt. 3. Never give your password or an \
         OTP code to anyone, including someone who claims to be from IT.",
    ],
    [
        "Anda memahami sebagian praktik aman, tetapi masih bisa terkecoh oleh pesan palsu yang \
         meyakinkan dan belum selalu menjaga data pribadi warga.",
        "You know some safe practices, but a convincing fake message can still fool you, and \
         you do not always protect citizens' personal data.",
        "1. Ikuti pelatihan atau simulasi pengenalan phishing dan pelajari ciri-cirinya: \
         desakan waktu, alamat pengirim yang mirip aslinya, serta permintaan data atau OTP. 2. \
         Gunakan pengelola kata sandi yang disetujui instansi agar setiap akun memakai kata \
         sandi berbeda. 3. Pelajari prinsip dasar UU PDP 27/2022 dan jangan mengirim data \
         pribadi warga (NIK, KK) melalui grup percakapan atau e-mail pribadi.",
        "1. Take a phishing-awareness course or simulation and learn the signs: pressure to act \
         fast, look-alike sender addresses, requests for data or OTP codes. 2. Use a password \
         manager approved by your agency so that every account has its own password. 3. Learn \
         the basics of UU PDP 27/2022 (the Personal Data Protection Law) and never send \
         citizens' personal data (NIK, family card) through chat groups or personal e-mail.",
    ],
    [
        "Anda menerapkan praktik keamanan dan etika digital dasar secara konsisten; yang perlu \
         ditingkatkan adalah kewaspadaan terhadap serangan yang lebih canggih dan penanganan \
         insiden.",
        "You apply basic digital security and ethics consistently; what needs work is alertness \
         to more sophisticated attacks and handling incidents.",
        "1. Pelajari prosedur pelaporan insiden keamanan di instansi Anda dan siapa yang harus \
         dihubungi (tim TI atau CSIRT) bila akun atau perangkat diduga dibobol. 2. Tinjau hak \
         akses dokumen bersama yang Anda kelola dan cabut akses yang tidak lagi diperlukan. 3. \
         Terapkan etika bermedia sosial ASN: pisahkan akun pribadi dan kedinasan, dan jangan \
         mengunggah dokumen internal.",
        "1. Learn your agency's procedure for reporting security incidents and whom to contact \
         (the IT team or CSIRT) when an account or device may have been compromised. 2. Review \
         the access rights on shared documents you manage and remove access that is no longer \
         needed. 3. Follow the social-media ethics for civil servants: keep personal and \
         official accounts apart and never post internal documents.",
    ],
    [
        "Anda waspada terhadap ancaman digital, melindungi data dengan baik, dan memahami \
         kewajiban etis serta hukum Anda sebagai ASN.",
        "You are alert to digital threats, protect data well and understand your ethical and \
         legal duties as a civil servant.",
        "1. Bantu rekan kerja mengenali pesan penipuan dengan membagikan contoh nyata yang \
         pernah diterima instansi, setelah data pribadinya dihapus. 2. Ikut menyusun atau \
         memutakhirkan prosedur pelindungan data pribadi di unit Anda sesuai UU PDP 27/2022, \
         termasuk kewajiban pemberitahuan kebocoran dalam 3×24 jam. 3. Perdalam pengetahuan \
         keamanan informasi melalui pelatihan lanjutan atau sertifikasi yang relevan.",
        "1. Help colleagues recognise fraudulent messages by sharing real examples your agency \
         has received, with the personal data removed. 2. Take part in writing or updating your \
         unit's personal-data protection procedure under UU PDP 27/2022, including the duty to \
         notify a breach within 3×24 hours. 3. Deepen your information-security knowledge \
         through an advanced course or a relevant certification.",
    ],
    [
        "Anda menjadi teladan etika dan keamanan digital: Anda berperilaku aman, melindungi \
         data warga, dan mendorong budaya sadar keamanan di sekitar Anda.",
        "You are a role model for digital ethics and security: you behave safely, protect \
         citizens' data and foster a security-aware culture around you.",
        "1. Jadilah duta keamanan siber di unit Anda: adakan sesi singkat berkala tentang \
         phishing, kata sandi, dan keamanan perangkat. 2. Dorong penilaian risiko dan penilaian \
         dampak pelindungan data pribadi sebelum instansi meluncurkan aplikasi atau layanan \
         baru. 3. Bekerja sama dengan CSIRT instansi untuk menguji kesiapan penanganan insiden \
         melalui latihan simulasi.",
        "1. Be your unit's cyber-security champion: run short regular sessions on phishing, \
         passwords and device security. 2. Push for a risk assessment and a personal-data \
         protection impact assessment before your agency launches a new application or service. \
         3. Work with the agency's CSIRT to test incident readiness through simulation \
         exercises.",
    ],
];

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    feedback_for(level, &BANDS)
}
