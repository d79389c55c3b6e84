//! Prints the benchmark's generated Compose project: `cargo run --example generate_project -- 200 50`.

#[path = "../benches/generate.rs"]
mod generate;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().unwrap_or(0));
    let services = args.next().filter(|n| *n > 0).unwrap_or(200);
    let networks = args.next().filter(|n| *n > 0).unwrap_or(50);
    print!("{}", generate::project(services, networks));
}
