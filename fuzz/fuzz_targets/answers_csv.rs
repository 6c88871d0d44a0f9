#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ikd_fuzz::answers_csv(data));
