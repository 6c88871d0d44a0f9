//! Feedback and advice per DigComp 2.2 proficiency level for area 2,
//! Communication and collaboration (2.1 interacting through digital technologies; 2.4 collaborating through digital technologies; 2.5 netiquette), in Bahasa Indonesia and English.
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
        "Anda berkomunikasi lewat sarana digital yang paling umum, tetapi masih ragu memilih saluran yang aman dan memakai alat kolaborasi daring.",
        "You communicate through the most common digital means, but are still unsure which channel is safe and how to use online collaboration tools.",
        "1. Pelajari kapan memakai surel dinas, aplikasi pesan, atau rapat daring, terutama untuk data yang rahasia. 2. Minta rekan menunjukkan cara memberi komentar dan melihat riwayat perubahan pada dokumen bersama. 3. Sebelum meneruskan pesan, tanyakan pada diri sendiri apakah pengirim dan orang yang dibicarakan akan keberatan.",
        "1. Learn when to use official e-mail, a messaging app or an online meeting, especially for confidential data. 2. Ask a colleague to show you how to comment and view the change history in a shared document. 3. Before forwarding a message, ask yourself whether the sender and the people it mentions would object.",
    ],
    [
        "Anda mandiri dalam berkomunikasi dan bekerja sama secara daring untuk tugas rutin; etika digital dan pengelolaan identitas daring Anda masih dapat diperkuat.",
        "You communicate and work together online on your own for routine tasks; your digital etiquette and the way you manage your online identity can still be strengthened.",
        "1. Jalankan satu pekerjaan tim dari awal hingga akhir di dokumen bersama, termasuk pembagian tugas dan tenggatnya. 2. Tinjau pengaturan privasi akun media sosial yang terkait dengan jabatan Anda. 3. Biasakan pesan yang ringkas, jelas penerimanya, dan bebas data pribadi di grup besar.",
        "1. Run one team task from start to finish in a shared document, including who does what by when. 2. Review the privacy settings of social media accounts linked to your position. 3. Keep messages in large groups short, clearly addressed and free of personal data.",
    ],
    [
        "Anda memilih dan memadukan sarana komunikasi dan kolaborasi digital dengan tepat, menjaga etika, dan dapat memandu rekan.",
        "You choose and combine digital communication and collaboration tools well, keep to good etiquette and can guide colleagues.",
        "1. Sepakati aturan kerja daring bersama tim: saluran untuk tiap keperluan, waktu tanggapan, dan tempat menyimpan keputusan. 2. Dampingi rekan yang baru memakai alat kolaborasi sampai mereka mandiri. 3. Manfaatkan kanal partisipasi publik instansi untuk menampung masukan warga.",
        "1. Agree online working rules with your team: a channel for each purpose, response times and where decisions are kept. 2. Support colleagues who are new to collaboration tools until they manage alone. 3. Use your agency's public-participation channels to gather citizens' input.",
    ],
    [
        "Anda mampu merancang cara unit atau instansi berkomunikasi dan berkolaborasi secara digital, termasuk dalam situasi yang rumit.",
        "You can design how a unit or agency communicates and collaborates digitally, including in complex situations.",
        "1. Susun pedoman komunikasi digital instansi yang mencakup etika, kerahasiaan, dan penanganan krisis informasi. 2. Evaluasi alat kolaborasi yang dipakai instansi dan usulkan perbaikan berdasarkan data pemakaian. 3. Bagikan praktik baik kolaborasi lintas instansi di forum ASN.",
        "1. Write your agency's digital communication guidelines, covering etiquette, confidentiality and information crises. 2. Evaluate the collaboration tools your agency uses and propose improvements based on usage data. 3. Share good practice in cross-agency collaboration at civil-service forums.",
    ],
];

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    feedback_for(level, &BANDS)
}
