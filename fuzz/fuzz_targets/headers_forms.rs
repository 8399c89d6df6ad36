//! The `headers_forms` fuzz target: `registrar_server::fuzz::headers_forms` on each input.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    registrar_server::fuzz::headers_forms(data);
});
