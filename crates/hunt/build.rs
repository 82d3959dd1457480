//! The bundled hunts are compiled in with `include_dir!`, which cargo does
//! not track: rebuild when `queries/` or a file in it changes.

fn main() {
    println!("cargo:rerun-if-changed=../../queries");
    if let Ok(entries) = std::fs::read_dir("../../queries") {
        for entry in entries.flatten() {
            println!("cargo:rerun-if-changed={}", entry.path().display());
        }
    }
}
