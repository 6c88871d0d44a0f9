//! Feedback and development advice for each level of the Budaya Kerja Berbasis Data domain.

use ikd_plugin_sdk::feedback::{BandTexts, feedback_for};
use ikd_plugin_sdk::{Feedback, LevelRef};

/// Summary and advice (id, en) per level, lowest first.
const BANDS: [BandTexts; 5] = [
    [
        "Keputusan kerja Anda masih jarang didasarkan pada data, dan membaca tabel atau grafik \
         sederhana masih menjadi tantangan.",
        "Your work decisions are still rarely based on data, and reading a simple table or \
         chart is still a challenge.",
        "1. Pelajari cara membaca tabel dan grafik dasar (persentase, rata-rata, tren) melalui \
         modul daring singkat, lalu praktikkan dengan data kinerja unit Anda. 2. Kenali portal \
         Satu Data Indonesia (data.go.id) dan portal data daerah Anda; temukan satu set data \
         yang berkaitan dengan tugas Anda. 3. Catat kegiatan kerja Anda secara rutin dalam \
         format yang rapi, misalnya lembar kerja dengan kolom tetap, agar kelak dapat diolah.",
        "1. Learn to read basic tables and charts (percentages, averages, trends) through a \
         short online module, then practise on your unit's performance data. 2. Get to know the \
         Satu Data Indonesia portal (data.go.id) and your region's data portal; find one data \
         set related to your tasks. 3. Record your work activities regularly in a tidy format, \
         such as a spreadsheet with fixed columns, so that they can be analysed later.",
    ],
    [
        "Anda sudah mengenal data sebagai dasar kerja, tetapi belum terbiasa memeriksa kualitas \
         data dan menarik kesimpulan darinya.",
        "You know that work should rest on data, but you do not yet routinely check data \
         quality or draw conclusions from it.",
        "1. Biasakan memeriksa data sebelum dipakai: kelengkapan, data ganda, satuan, dan \
         tanggal pemutakhirannya. 2. Ikuti pelatihan pengolahan data dengan lembar kerja \
         (filter, tabel pivot, grafik) dan terapkan pada laporan bulanan unit Anda. 3. Setiap \
         kali menyusun usulan kegiatan, sertakan minimal satu angka pendukung beserta \
         sumbernya.",
        "1. Check data before you use it: completeness, duplicates, units and the date it was \
         last updated. 2. Take a spreadsheet course (filters, pivot tables, charts) and apply \
         it to your unit's monthly report. 3. Whenever you draft a proposal, back it with at \
         least one figure and state its source.",
    ],
    [
        "Anda terbiasa memakai data dalam pekerjaan rutin; langkah berikutnya adalah menjadikan \
         data dasar keputusan dan membagipakaikannya antarunit.",
        "You use data in routine work; the next step is to make data the basis of decisions and \
         to share it across units.",
        "1. Buat dasbor sederhana untuk indikator kinerja unit Anda dan perbarui secara \
         berkala. 2. Pelajari prinsip Satu Data Indonesia (standar data, metadata, kode \
         referensi, interoperabilitas) dan terapkan pada satu set data yang dikelola unit Anda. \
         3. Bersama atasan, pilih satu keputusan yang hasilnya dapat dibandingkan dengan data \
         sebelum dan sesudah pelaksanaan.",
        "1. Build a simple dashboard for your unit's performance indicators and keep it up to \
         date. 2. Learn the Satu Data Indonesia principles (data standards, metadata, reference \
         codes, interoperability) and apply them to one data set your unit manages. 3. With \
         your supervisor, pick one decision whose results can be compared with data from before \
         and after it was carried out.",
    ],
    [
        "Anda memakai data secara konsisten untuk merencanakan, memantau, dan mengevaluasi \
         pekerjaan, dan Anda memperhatikan kualitasnya.",
        "You use data consistently to plan, monitor and evaluate work, and you pay attention to \
         its quality.",
        "1. Jadilah penghubung unit Anda dengan walidata instansi: pastikan data yang dikirim \
         ke portal Satu Data daerah lengkap dengan metadata dan jadwal pemutakhiran. 2. Latih \
         rekan kerja membaca dasbor dan menafsirkan angka dengan hati-hati, misalnya membedakan \
         korelasi dari sebab-akibat. 3. Ikuti pelatihan analisis data lanjutan (statistik \
         dasar, visualisasi) yang sesuai dengan jabatan Anda.",
        "1. Act as your unit's link to the agency's data steward (walidata): make sure data \
         sent to the regional Satu Data portal comes with metadata and an update schedule. 2. \
         Coach colleagues in reading dashboards and interpreting figures with care, for example \
         telling correlation from cause and effect. 3. Take an advanced data-analysis course \
         (basic statistics, visualisation) that fits your position.",
    ],
    [
        "Budaya kerja berbasis data sudah melekat pada diri Anda: Anda mengambil keputusan \
         dengan bukti, mengelola data secara bertanggung jawab, dan menularkannya kepada orang \
         lain.",
        "Data-driven work is second nature to you: you decide on evidence, handle data \
         responsibly and pass the habit on to others.",
        "1. Dorong forum Satu Data di instansi Anda untuk menyepakati standar dan jadwal \
         pemutakhiran data prioritas. 2. Rancang evaluasi program berbasis data (indikator, \
         data dasar, target) bersama perencana di unit Anda. 3. Pastikan pemakaian data pribadi \
         dalam analisis mematuhi UU PDP 27/2022, misalnya dengan pseudonimisasi dan pembatasan \
         akses.",
        "1. Push your agency's Satu Data forum to agree on standards and update schedules for \
         priority data. 2. Design a data-based programme evaluation (indicators, baseline, \
         targets) with the planners in your unit. 3. Make sure personal data used in analysis \
         complies with UU PDP 27/2022 (the Personal Data Protection Law), for example through \
         pseudonymisation and restricted access.",
    ],
];

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    feedback_for(level, &BANDS)
}
