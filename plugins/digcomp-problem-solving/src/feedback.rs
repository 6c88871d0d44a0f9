//! Feedback and advice per DigComp 2.2 proficiency level for area 5,
//! Problem solving (5.1 solving technical problems; 5.2 identifying needs and technological responses; 5.4 identifying digital competence gaps), in Bahasa Indonesia and English.
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
        "Anda dapat mengatasi kendala teknis yang sangat sederhana, tetapi masih bergantung pada orang lain untuk menemukan penyebab masalah dan memilih solusi digital.",
        "You can deal with very simple technical hitches, but still depend on others to find the cause of a problem and to choose a digital solution.",
        "1. Saat terjadi kendala, catat apa yang terjadi dan apa yang sudah dicoba sebelum meminta bantuan. 2. Coba langkah dasar: muat ulang, periksa koneksi, coba perangkat atau peramban lain. 3. Tuliskan satu keterampilan digital yang paling Anda butuhkan dan carilah pelatihannya.",
        "1. When something goes wrong, note what happened and what you tried before asking for help. 2. Try the basic steps: reload, check the connection, try another device or browser. 3. Write down the one digital skill you need most and find a course for it.",
    ],
    [
        "Anda memecahkan masalah teknis yang umum secara mandiri; yang dapat ditingkatkan adalah menimbang kebutuhan sebelum memilih teknologi dan merencanakan pengembangan diri.",
        "You solve common technical problems on your own; what can improve is weighing needs before choosing a technology and planning your own development.",
        "1. Sebelum mengusulkan aplikasi baru, tuliskan masalah yang hendak dipecahkan dan siapa penggunanya. 2. Susun rencana belajar tiga bulan untuk satu keterampilan digital dan tinjau kemajuannya. 3. Catat solusi kendala teknis yang berhasil dalam catatan bersama tim.",
        "1. Before proposing a new app, write down the problem it should solve and who will use it. 2. Make a three-month learning plan for one digital skill and review your progress. 3. Record the fixes that worked in a note shared with your team.",
    ],
    [
        "Anda menemukan penyebab masalah, memilih solusi digital yang sesuai kebutuhan, dan menyadari kekurangan kompetensi diri serta tim.",
        "You find the causes of problems, choose digital solutions that fit the needs, and are aware of your own and your team's competence gaps.",
        "1. Pimpin uji coba kecil sebuah solusi digital di unit Anda dan ukur hasilnya sebelum diperluas. 2. Bantu rekan memetakan kebutuhan pengembangan kompetensi digital mereka. 3. Bangun basis pengetahuan pemecahan masalah teknis untuk unit.",
        "1. Lead a small trial of a digital solution in your unit and measure the results before it is scaled up. 2. Help colleagues map their digital development needs. 3. Build a knowledge base of technical fixes for your unit.",
    ],
    [
        "Anda mampu memecahkan persoalan rumit yang belum pernah dihadapi dengan teknologi digital dan mendorong inovasi di instansi.",
        "You can solve complex, unfamiliar problems with digital technology and drive innovation in your agency.",
        "1. Fasilitasi perancangan ulang layanan yang berpusat pada pengguna bersama unit lain. 2. Susun peta kebutuhan kompetensi digital instansi beserta rencana pengembangannya. 3. Dokumentasikan dan publikasikan inovasi Anda agar dapat ditiru instansi lain.",
        "1. Facilitate user-centred service redesign with other units. 2. Draw up your agency's map of digital-competence needs and its development plan. 3. Document and publish your innovations so that other agencies can replicate them.",
    ],
];

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    feedback_for(level, &BANDS)
}
