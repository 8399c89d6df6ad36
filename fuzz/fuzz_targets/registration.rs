//! The `registration` fuzz target: `registrar_server::fuzz::registration` on each input.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    registrar_server::fuzz::registration(data);
});
