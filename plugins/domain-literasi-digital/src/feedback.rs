//! Feedback and development advice for each level of the Literasi Digital domain.

use ikd_plugin_sdk::feedback::{BandTexts, feedback_for};
use ikd_plugin_sdk::{Feedback, LevelRef};

/// Summary and advice (id, en) per level, lowest first.
const BANDS: [BandTexts; 5] = [
    [
        "Literasi digital Anda masih sangat terbatas: tugas dasar seperti mencari informasi resmi, \
         mengelola berkas, dan memakai aplikasi perkantoran elektronik masih memerlukan bantuan.",
        "Your digital literacy is still very limited: basic tasks such as finding official \
         information, managing files and using the e-office applications still need help.",
        "1. Ikuti pelatihan dasar literasi digital untuk ASN (misalnya kelas daring di platform \
         pembelajaran instansi atau Digital Talent Scholarship) dan selesaikan minimal satu modul \
         setiap minggu. 2. Minta rekan kerja mendampingi Anda mempraktikkan alur surat di SRIKANDI: \
         membuat konsep, meneruskan disposisi, dan mencari arsip surat. 3. Simpan dokumen kerja di \
         penyimpanan bersama instansi dengan nama berkas dan folder yang teratur, bukan di komputer \
         pribadi.",
        "1. Take a basic digital-literacy course for civil servants (for example an online class on \
         your agency's learning platform or Digital Talent Scholarship) and finish at least one \
         module a week. 2. Ask a colleague to walk you through the SRIKANDI correspondence flow: \
         drafting a letter, forwarding a disposition and finding an archived letter. 3. Keep work \
         documents in your agency's shared storage with orderly file and folder names, not on a \
         personal computer.",
    ],
    [
        "Anda menguasai sebagian keterampilan dasar, tetapi masih kesulitan menilai keandalan \
         informasi daring dan memanfaatkan fitur aplikasi kerja secara penuh.",
        "You have some of the basic skills, but still find it hard to judge how reliable online \
         information is and to use the full features of your work applications.",
        "1. Biasakan memeriksa sumber sebelum meneruskan informasi: cek situs resmi pemerintah \
         (domain go.id) atau kanal klarifikasi hoaks Komdigi. 2. Pelajari fitur kolaborasi dokumen \
         (komentar, riwayat versi, berbagi dengan hak akses terbatas) dan gunakan dalam satu \
         pekerjaan tim. 3. Catat langkah kerja yang sering Anda pakai di SRIKANDI dan aplikasi \
         kepegawaian sebagai panduan pribadi, lalu tinjau bersama atasan.",
        "1. Check the source before you pass information on: look for the official government site \
         (a go.id domain) or Komdigi's hoax-clarification channel. 2. Learn the collaboration \
         features of shared documents (comments, version history, sharing with limited access \
         rights) and use them in one team task. 3. Write down the steps you use most in SRIKANDI \
         and the personnel application as a personal guide, and review it with your supervisor.",
    ],
    [
        "Literasi digital Anda memadai untuk pekerjaan rutin; tantangan berikutnya adalah memakai \
         alat digital untuk bekerja lebih efisien dan membantu rekan kerja.",
        "Your digital literacy is adequate for routine work; the next challenge is to use digital \
         tools to work more efficiently and to help your colleagues.",
        "1. Pilih satu proses rutin di unit Anda (misalnya rekap kehadiran rapat atau permohonan \
         cuti) dan ubah menjadi formulir daring dengan rekap otomatis. 2. Ikuti pelatihan tingkat \
         menengah, misalnya pengolahan data dengan lembar kerja atau teknik pencarian lanjutan, dan \
         terapkan hasilnya dalam laporan bulanan. 3. Bagikan satu kiat digital dalam rapat tim \
         setiap bulan.",
        "1. Pick one routine process in your unit (for example meeting attendance or leave \
         requests) and turn it into an online form with an automatic summary. 2. Take an \
         intermediate course, such as working with data in spreadsheets or advanced search \
         techniques, and apply it in your monthly report. 3. Share one digital tip at a team \
         meeting every month.",
    ],
    [
        "Anda cakap memakai beragam layanan digital dan menilai informasi secara kritis; Anda siap \
         menjadi rujukan bagi rekan kerja.",
        "You use a wide range of digital services competently and assess information critically; \
         you are ready to be the person colleagues turn to.",
        "1. Dampingi dua atau tiga rekan yang masih kesulitan memakai aplikasi kerja, misalnya \
         SRIKANDI, sampai mereka mandiri. 2. Susun panduan singkat bergambar untuk aplikasi yang \
         paling sering dipakai di unit Anda dan simpan di ruang berbagi instansi. 3. Ikuti \
         pelatihan lanjutan atau sertifikasi yang sesuai dengan jabatan Anda, misalnya analisis \
         data atau pengelolaan konten digital.",
        "1. Coach two or three colleagues who still struggle with work applications, such as \
         SRIKANDI, until they manage on their own. 2. Write a short illustrated guide to the \
         applications your unit uses most and keep it in the agency's shared space. 3. Take an \
         advanced course or certification that fits your position, such as data analysis or \
         digital content management.",
    ],
    [
        "Literasi digital Anda sangat tinggi: Anda memanfaatkan teknologi secara mandiri, kritis, \
         dan produktif, serta mampu mengajarkannya kepada orang lain.",
        "Your digital literacy is very high: you use technology independently, critically and \
         productively, and you can teach it to others.",
        "1. Fasilitasi sesi berbagi pengetahuan tentang literasi digital di instansi Anda, termasuk \
         untuk pegawai yang jarang memakai komputer. 2. Sampaikan kepada pengelola SPBE kendala \
         yang dialami pengguna dan usulan perbaikan aplikasi internal. 3. Terus perbarui \
         keterampilan Anda, misalnya tentang kecerdasan artifisial generatif dan risiko \
         penggunaannya dalam pekerjaan pemerintahan.",
        "1. Run knowledge-sharing sessions on digital literacy in your agency, including for staff \
         who rarely use a computer. 2. Pass on users' difficulties and suggested improvements to \
         internal applications to the SPBE (e-government) team. 3. Keep your skills current, for \
         example on generative artificial intelligence and the risks of using it in government \
         work.",
    ],
];

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    feedback_for(level, &BANDS)
}
