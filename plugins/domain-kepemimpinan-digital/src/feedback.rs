//! Feedback and development advice for each level of the Kepemimpinan Digital domain.

use ikd_plugin_sdk::feedback::{BandTexts, feedback_for};
use ikd_plugin_sdk::{Feedback, LevelRef};

/// Summary and advice (id, en) per level, lowest first.
const BANDS: [BandTexts; 5] = [
    [
        "Peran Anda dalam memimpin perubahan digital masih sangat terbatas; inisiatif digital \
         di unit Anda cenderung menunggu arahan.",
        "Your role in leading digital change is still very limited; digital initiatives in your \
         unit tend to wait for instructions.",
        "1. Pelajari arah kebijakan transformasi digital pemerintah (SPBE dan peta rencana \
         digital instansi Anda) dan kaitkan dengan tugas unit Anda. 2. Mulailah dengan memberi \
         contoh: pakai sendiri SRIKANDI dan rapat daring secara konsisten sebelum memintanya \
         dari tim. 3. Ikuti pelatihan kepemimpinan digital dan sepakati dengan atasan satu hal \
         yang akan Anda terapkan.",
        "1. Study the direction of the government's digital transformation (SPBE and your \
         agency's digital roadmap) and relate it to your unit's tasks. 2. Start by setting an \
         example: use SRIKANDI and online meetings consistently yourself before asking it of \
         your team. 3. Take a digital-leadership course and agree with your supervisor on one \
         thing you will put into practice.",
    ],
    [
        "Anda mendukung perubahan digital, tetapi belum menggerakkan tim: tujuan, pembagian \
         peran, dan dukungan bagi anggota tim yang kesulitan belum jelas.",
        "You support digital change but do not yet mobilise your team: goals, roles and support \
         for team members who struggle are still unclear.",
        "1. Tetapkan satu tujuan digital yang konkret untuk tim, misalnya seluruh surat keluar \
         melalui SRIKANDI dalam tiga bulan, dan pantau kemajuannya bersama. 2. Kenali anggota \
         tim yang tertinggal dan atur pendampingan oleh rekan yang lebih mahir. 3. Sediakan \
         waktu dalam rapat rutin untuk membahas kendala pemakaian aplikasi.",
        "1. Set one concrete digital goal for your team, for example all outgoing letters \
         through SRIKANDI within three months, and track progress together. 2. Identify team \
         members who are falling behind and arrange coaching by more skilled colleagues. 3. Set \
         aside time in regular meetings to discuss problems with the applications.",
    ],
    [
        "Anda mampu mengelola perubahan digital di tim; tantangan berikutnya adalah mengambil \
         keputusan berbasis data dan mengelola penolakan terhadap perubahan.",
        "You can manage digital change in your team; the next challenge is to decide on data \
         and to handle resistance to change.",
        "1. Gunakan data (dasbor kinerja, data layanan) dalam rapat untuk menetapkan prioritas \
         perbaikan. 2. Libatkan tim sejak awal dalam merancang perubahan proses kerja digital \
         agar penolakan berkurang, dan hargai kontribusi mereka. 3. Bangun kolaborasi lintas \
         unit untuk menghindari aplikasi ganda dan untuk berbagi pakai data.",
        "1. Use data (performance dashboards, service data) in meetings to set improvement \
         priorities. 2. Involve the team from the start in redesigning digital work processes \
         so that resistance drops, and recognise their contributions. 3. Build cross-unit \
         collaboration to avoid duplicate applications and to share data.",
    ],
    [
        "Anda memimpin transformasi digital di unit Anda dengan visi yang jelas, keputusan \
         berbasis data, dan perhatian pada pengembangan tim.",
        "You lead digital transformation in your unit with a clear vision, data-based decisions \
         and attention to developing your team.",
        "1. Susun peta jalan digital unit untuk satu hingga dua tahun yang selaras dengan \
         arsitektur SPBE instansi. 2. Kembangkan kader penggerak digital di tim melalui \
         penugasan proyek dan pembelajaran berkelanjutan. 3. Ukur nilai publik dari inisiatif \
         digital Anda (waktu layanan, kepuasan warga) dan laporkan kepada pimpinan.",
        "1. Draw up a one-to-two-year digital roadmap for your unit in line with your agency's \
         SPBE architecture. 2. Grow digital champions in your team through project assignments \
         and continuous learning. 3. Measure the public value of your digital initiatives \
         (service time, citizen satisfaction) and report it to senior management.",
    ],
    [
        "Anda adalah pemimpin digital yang menginspirasi: Anda membangun budaya inovasi, \
         kolaborasi lintas instansi, dan orientasi pada nilai publik.",
        "You are an inspiring digital leader: you build a culture of innovation, collaboration \
         across agencies and a focus on public value.",
        "1. Jadilah mentor bagi pemimpin unit lain dalam mengelola perubahan digital. 2. \
         Prakarsai kolaborasi lintas instansi atau daerah untuk berbagi pakai aplikasi dan data \
         sesuai prinsip SPBE. 3. Jaga tata kelola dan risiko: pastikan inovasi digital di bawah \
         kepemimpinan Anda mematuhi UU PDP 27/2022 dan standar keamanan informasi.",
        "1. Mentor leaders of other units in managing digital change. 2. Start collaboration \
         with other agencies or regions to share applications and data under the SPBE \
         principles. 3. Keep governance and risk in view: make sure the digital innovations you \
         lead comply with UU PDP 27/2022 (the Personal Data Protection Law) and \
         information-security standards.",
    ],
];

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    feedback_for(level, &BANDS)
}
