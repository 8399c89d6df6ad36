//! The `client_assertion` fuzz target: `registrar_server::fuzz::client_assertion` on each input.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    registrar_server::fuzz::client_assertion(data);
});
