//! Feedback and development advice for each level of the Pelayanan Publik Digital domain.

use ikd_plugin_sdk::feedback::{BandTexts, feedback_for};
use ikd_plugin_sdk::{Feedback, LevelRef};

/// Summary and advice (id, en) per level, lowest first.
const BANDS: [BandTexts; 5] = [
    [
        "Pemahaman Anda tentang pelayanan publik digital masih sangat terbatas; Anda belum \
         terbiasa melayani atau mengarahkan masyarakat melalui kanal daring.",
        "Your understanding of digital public service is still very limited; you are not yet \
         used to serving or guiding citizens through online channels.",
        "1. Pelajari layanan daring yang disediakan instansi Anda (laman layanan, aplikasi, \
         nomor WhatsApp resmi) dan cobalah sendiri alurnya sebagai pengguna. 2. Kenali \
         SP4N-LAPOR! sebagai kanal pengaduan nasional dan cara menindaklanjuti aduan yang masuk \
         ke unit Anda. 3. Minta pendampingan petugas layanan yang berpengalaman saat menangani \
         beberapa permohonan daring pertama Anda.",
        "1. Learn the online services your agency offers (service pages, apps, the official \
         WhatsApp number) and go through them yourself as a user. 2. Get to know SP4N-LAPOR!, \
         the national complaints channel, and how complaints that reach your unit are followed \
         up. 3. Ask an experienced service officer to coach you through your first few online \
         requests.",
    ],
    [
        "Anda mengenal layanan digital instansi, tetapi belum konsisten menjaga standar layanan \
         daring: waktu respons, kejelasan informasi, dan tindak lanjut.",
        "You know your agency's digital services, but you do not yet keep to online service \
         standards consistently: response time, clear information and follow-up.",
        "1. Pelajari standar pelayanan (persyaratan, prosedur, waktu, biaya) untuk layanan yang \
         Anda tangani dan pastikan informasinya sama di semua kanal daring. 2. Jawab pertanyaan \
         masyarakat di kanal resmi dalam batas waktu yang ditetapkan, dengan bahasa yang jelas \
         dan santun. 3. Catat pertanyaan yang sering muncul dan usulkan agar jawabannya dimuat \
         di halaman tanya-jawab (FAQ) instansi.",
        "1. Learn the service standard (requirements, procedure, time, fees) of the services \
         you handle and make sure the information is the same on every online channel. 2. \
         Answer citizens' questions on the official channels within the set time, in clear and \
         courteous language. 3. Keep a list of frequent questions and propose that their \
         answers be added to the agency's FAQ page.",
    ],
    [
        "Anda mampu memberikan layanan melalui kanal digital dengan baik; tantangan berikutnya \
         adalah memperbaiki layanan dari sudut pandang pengguna.",
        "You deliver services well through digital channels; the next challenge is to improve \
         them from the user's point of view.",
        "1. Gunakan umpan balik pengguna (survei kepuasan masyarakat, ulasan aplikasi, aduan \
         SP4N-LAPOR!) untuk menemukan langkah layanan yang paling sering dikeluhkan. 2. Petakan \
         alur layanan dari sisi warga dan usulkan penghapusan persyaratan atau langkah yang \
         tidak perlu. 3. Pastikan layanan daring dapat dipakai warga lanjut usia dan penyandang \
         disabilitas, misalnya dengan petunjuk sederhana dan alternatif bantuan tatap muka.",
        "1. Use user feedback (the community satisfaction survey, app reviews, SP4N-LAPOR! \
         complaints) to find the service step people complain about most. 2. Map the service \
         journey from the citizen's side and propose dropping requirements or steps that are \
         not needed. 3. Make sure online services work for older citizens and people with \
         disabilities, for example with simple instructions and a face-to-face alternative.",
    ],
    [
        "Anda melayani secara digital dengan berorientasi pada pengguna dan mampu mengusulkan \
         perbaikan proses layanan.",
        "You serve digitally with the user in mind and can propose improvements to the service \
         process.",
        "1. Pimpin uji coba kecil perbaikan layanan, misalnya formulir daring yang lebih \
         ringkas, dan ukur dampaknya terhadap waktu penyelesaian. 2. Dorong integrasi data \
         antarlayanan agar warga tidak diminta mengunggah dokumen yang sama berulang kali. 3. \
         Bagikan praktik baik layanan digital unit Anda dalam forum inovasi pelayanan publik.",
        "1. Lead a small pilot of a service improvement, such as a shorter online form, and \
         measure its effect on completion time. 2. Push for data integration between services \
         so that citizens are not asked to upload the same document again and again. 3. Share \
         your unit's good practice in digital service at public-service innovation forums.",
    ],
    [
        "Anda menjadi penggerak pelayanan publik digital: layanan yang Anda kelola berpusat \
         pada warga, terukur, dan terus diperbaiki.",
        "You drive digital public service: the services you manage are citizen-centred, \
         measured and continuously improved.",
        "1. Bimbing unit lain merancang ulang layanan dengan pendekatan berpusat pada pengguna \
         (design thinking). 2. Tetapkan indikator layanan digital (waktu respons, tingkat \
         penyelesaian, kepuasan) dan tinjau bersama pimpinan secara berkala. 3. Pastikan data \
         pribadi pemohon diproses sesuai UU PDP 27/2022: minta data seperlunya, batasi \
         aksesnya, dan siapkan prosedur bila terjadi kebocoran.",
        "1. Guide other units in redesigning services with a user-centred (design thinking) \
         approach. 2. Set digital service indicators (response time, completion rate, \
         satisfaction) and review them with senior management regularly. 3. Make sure \
         applicants' personal data is processed in line with UU PDP 27/2022 (the Personal Data \
         Protection Law): ask only for the data needed, restrict access and have a procedure \
         ready for a breach.",
    ],
];

/// The feedback for `level`.
pub fn feedback(level: &LevelRef) -> Feedback {
    feedback_for(level, &BANDS)
}
